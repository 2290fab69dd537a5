import { create, fromJson, type JsonValue, type MessageInitShape } from '@bufbuild/protobuf';
import {
  RuleSchema,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  Visibility,
  type ProfileChange,
} from '@shoal/contracts';
import { SerialLanes, partitionOf, type Clock, type TopicCatchUp } from '@shoal/platform';
import pino from 'pino';
import type { MembershipSettings } from '../../src/partitions/membership-settings';
import { type PartitionControl, PartitionsService } from '../../src/partitions/partitions.service';
import { PreviewService } from '../../src/queries/preview.service';
import { MembershipQueriesService } from '../../src/queries/queries.service';
import { SegmentDefinitionsService } from '../../src/segments/segment-definitions.service';
import { InMemoryPartitionStore } from './in-memory-partition-store';
import { RecordingEvents } from './recording-events';

/**
 * The definitions topic's catch-up of a test: counts the calls and runs `beforeAnswer` first
 * (e.g. to apply a definition "published" just before the question).
 */
export class RecordingCatchUp implements TopicCatchUp {
  calls = 0;
  beforeAnswer: () => boolean = () => true;
  async readToEnd(): Promise<boolean> {
    this.calls += 1;
    return this.beforeAnswer();
  }
}

/** A clock that stands still until told to move. */
export class FixedClock implements Clock {
  constructor(private at: number) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

const SETTINGS: MembershipSettings = {
  checkpointIntervalMs: 1e9,
  timerTickMs: 1e9,
  historyRetentionMs: 0,
  maxDirtyProfiles: 1e6,
  // two live subjects per partition, so every test here also runs through packing and unpacking
  liveProfiles: 2,
  statusIntervalMs: 60_000,
};

export function dynamicSegment(
  id: string,
  condition: JsonValue,
  init: MessageInitShape<typeof SegmentSchema> = {},
) {
  return create(SegmentSchema, {
    id,
    name: id,
    kind: SegmentKind.DYNAMIC,
    status: SegmentStatus.ACTIVE,
    owner: 'ann',
    visibility: Visibility.SHARED,
    version: 1n,
    rule: fromJson(RuleSchema, { condition }),
    ...init,
  });
}

/**
 * One membership instance over in-memory ports: its partitions service (owning `owned` of
 * `partitions`), definitions, queries and previews, a fixed clock, and what it published.
 * Instances made with the same `store` and `events` behave as one deployment.
 */
export async function newTestMembership({
  partitions = 2,
  owned = [0, 1],
  at = Date.parse('2026-03-02T09:00:00Z'),
  store = new InMemoryPartitionStore(),
  events = new RecordingEvents((id) => partitionOf(id, partitions)),
  logger = pino({ level: 'silent' }),
  commit = async () => undefined,
}: {
  partitions?: number;
  owned?: number[];
  at?: number;
  store?: InMemoryPartitionStore;
  events?: RecordingEvents;
  logger?: pino.Logger;
  /** Called with the next offsets of a partition once its checkpoint is durable. */
  commit?: PartitionControl['commit'];
} = {}) {
  const clock = new FixedClock(at);
  const definitions = new SegmentDefinitionsService(logger);
  const catchUp = new RecordingCatchUp();
  const service = new PartitionsService(store, events, SETTINGS, clock, logger, definitions);
  const lanes = new SerialLanes<number>();
  service.start({ inLane: (p, task) => lanes.run(p, task), commit, settled: true }, partitions);
  await service.assign(owned);
  let offset = 0;
  return {
    service,
    store,
    events,
    definitions,
    catchUp,
    clock,
    queries: new MembershipQueriesService(service, definitions, clock, catchUp),
    previews: new PreviewService(service, definitions, clock),
    /** Applies profile changes, each in its profile's partition, as the consumer would. */
    async apply(...changes: ProfileChange[]) {
      for (const change of changes) {
        offset += 1;
        await service.processChanges(partitionOf(change.profileId, partitions), [
          {
            offset,
            timestamp: clock.now().getTime(),
            value: change,
            reject: (reason, error) => {
              throw new Error(`${reason}: ${error}`);
            },
          },
        ]);
      }
    },
    /** Checkpoints every owned partition and waits for the writes. */
    async checkpoint() {
      for (const partition of service.ownedPartitions) {
        const runtime = service.local(partition);
        await runtime?.checkpoint();
        await runtime?.flushed();
      }
    },
    stop: () => service.stop(),
  };
}

/** A profile id that lands in `partition` of `count`. */
export function profileIn(partition: number, count: number, name: string): string {
  for (let i = 0; ; i += 1) {
    const id = `user:${name}-${i}`;
    if (partitionOf(id, count) === partition) return id;
  }
}
