import { fromBinary } from '@bufbuild/protobuf';
import { type ProfileChange, ProfileChangeSchema, profileChangesTopic } from '@shoal/contracts';
import { type TestScope, eventually } from '@shoal/testing';
import type { Consumer } from 'kafkajs';

/** A change as it was read: the record key and its partition too. */
export interface ReadChange {
  readonly key: string;
  readonly partition: number;
  readonly change: ProfileChange;
}

/**
 * Everything on shoal.profiles.changes of a test scope, read from the beginning as it arrives.
 */
export class ChangeFeed {
  readonly read: ReadChange[] = [];
  private consumer?: Consumer;

  constructor(private readonly scope: TestScope) {}

  async start(): Promise<this> {
    this.consumer = this.scope.kafka().consumer({ groupId: `feed-${this.scope.id}-${Date.now()}` });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topic: this.scope.topicName(profileChangesTopic),
      fromBeginning: true,
    });
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        this.read.push({
          key: message.key?.toString() ?? '',
          partition,
          change: fromBinary(ProfileChangeSchema, message.value as Buffer),
        });
      },
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  get changes(): ProfileChange[] {
    return this.read.map((r) => r.change);
  }

  /** The changes of one subject (record key), in the order they were read. */
  of(subjectId: string): ProfileChange[] {
    return this.read.filter((r) => r.key === subjectId).map((r) => r.change);
  }

  /** Waits until the feed holds what `expectation` checks (it throws until then). */
  async until(expectation: (feed: this) => void, timeoutMs = 30_000): Promise<void> {
    await eventually(() => expectation(this), timeoutMs);
  }
}
