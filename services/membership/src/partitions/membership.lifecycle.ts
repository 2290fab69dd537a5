import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PLATFORM, type PlatformContext } from '@shoal/platform';
import { DefinitionsFollower } from '../segments/definitions.follower';
import { CommandsFollower } from './commands.follower';
import { MembershipConsumer } from './membership.consumer';

/**
 * Starts membership in order — every definition known, then the commands, then the partitions —
 * and stops it in reverse, the partitions taking a last checkpoint.
 */
@Injectable()
export class MembershipLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private started = false;

  constructor(
    @Inject(PLATFORM) private readonly platform: PlatformContext,
    private readonly definitions: DefinitionsFollower,
    private readonly commands: CommandsFollower,
    private readonly consumer: MembershipConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { readiness } = this.platform;
    readiness.register({ name: 'definitions', check: async () => this.definitions.health() });
    readiness.register({ name: 'commands', check: async () => this.commands.health() });
    readiness.register({
      name: 'partitions',
      check: async () => {
        if (!this.started) throw new Error('starting');
        return this.consumer.health();
      },
    });
    await this.definitions.start();
    await this.commands.start();
    await this.consumer.start();
    this.started = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.consumer.stop();
    await this.commands.stop();
    await this.definitions.stop();
  }
}
