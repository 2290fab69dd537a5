import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { ListMembershipChangedSchema, listMembershipTopic } from '@shoal/contracts';
import {
  CLOCK,
  type Clock,
  EventPublisher,
  LOGGER,
  type Logger,
  OutboxRelay,
} from '@shoal/platform';
import { Db } from 'mongodb';
import { LIST_MEMBER_REPOSITORY, type ListMemberRepositoryPort } from './list-members.repository';

/** Publishes static-list member changes (keyed by member id) and marks them published. */
@Injectable()
export class ListMembersRelay extends OutboxRelay {
  constructor(
    @Inject(LIST_MEMBER_REPOSITORY) private readonly members: ListMemberRepositoryPort,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    @Inject(CLOCK) clock: Clock,
    db: Db,
  ) {
    super({ name: 'list-members', db, clock, logger });
  }

  protected async drainOnce(): Promise<number> {
    const batch = await this.members.pending(500);
    if (batch.length === 0) return 0;
    await this.publisher.publish(
      listMembershipTopic,
      batch.map((m) => ({
        key: m.memberId,
        value: create(ListMembershipChangedSchema, {
          listId: m.listId,
          memberId: m.memberId,
          member: m.member,
          sequence: BigInt(m.sequence),
          changedAt: timestampFromMs(m.changedAtMs),
          changedBy: m.changedBy,
        }),
      })),
    );
    await Promise.all(batch.map((m) => this.members.published(m)));
    return batch.length;
  }
}
