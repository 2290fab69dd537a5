import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ListMembershipChangedSchema, listMembershipTopic } from '@shoal/contracts';
import {
  CLOCK,
  type Clock,
  EventPublisher,
  LOGGER,
  type Logger,
  MongoLease,
  RelayLoop,
} from '@shoal/platform';
import { Db } from 'mongodb';
import { LIST_MEMBER_REPOSITORY, type ListMemberRepositoryPort } from './list-members.repository';

/** Publishes static-list member changes (keyed by member id) and marks them published. */
@Injectable()
export class ListMembersRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: RelayLoop;

  constructor(
    @Inject(LIST_MEMBER_REPOSITORY) private readonly members: ListMemberRepositoryPort,
    private readonly publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    @Inject(CLOCK) clock: Clock,
    db: Db,
  ) {
    this.loop = new RelayLoop({
      name: 'list-members',
      drainOnce: () => this.drainOnce(),
      lease: new MongoLease(db, 'list-members-relay', 15_000, clock),
      intervalMs: 2_000,
      logger,
    });
  }

  changed(): void {
    this.loop.kick();
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private async drainOnce(): Promise<number> {
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
