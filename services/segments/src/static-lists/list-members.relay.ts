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
import { ListMembersService } from './list-members.service';
import type { ListChangeNotifier } from './static-lists.service';

/** Publishes static-list member changes (keyed by member id), each list's in change order. */
@Injectable()
export class ListMembersRelay extends OutboxRelay implements ListChangeNotifier {
  constructor(
    private readonly members: ListMembersService,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) clock: Clock,
    db: Db,
  ) {
    super({ name: 'list-members', db, clock, logger });
  }

  changed(): void {
    this.kick();
  }

  protected async drainOnce(): Promise<number> {
    const { handled, lost } = await this.members.publishNext((changes) =>
      this.publisher.publish(
        listMembershipTopic,
        changes.map((c) => ({
          key: c.memberId,
          value: create(ListMembershipChangedSchema, {
            listId: c.listId,
            memberId: c.memberId,
            member: c.member,
            sequence: BigInt(c.sequence),
            changedAt: timestampFromMs(c.changedAtMs),
            changedBy: c.changedBy,
          }),
        })),
      ),
    );
    for (const part of lost) {
      this.logger.error(
        part,
        'a part of a static-list change is missing: its members were not published',
      );
    }
    return handled;
  }
}
