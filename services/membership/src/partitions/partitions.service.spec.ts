import { fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { RefreshMode, RefreshState, TransitionCause } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { eventually } from '@shoal/testing';
import pino from 'pino';
import type { HistoryChunk } from '../evaluation/profile-state';
import { profileChange } from '../../test/evaluation/scenario';
import { InMemoryPartitionStore } from '../../test/support/in-memory-partition-store';
import { RecordingEvents } from '../../test/support/recording-events';
import { dynamicSegment, newTestMembership, profileIn } from '../../test/support/test-membership';

/** A store whose history read (a partition's backfill while it loads) waits until released. */
class SlowHistoryStore extends InMemoryPartitionStore {
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  /** Resolves once a backfill has started reading history. */
  readonly reading: Promise<void>;
  private startReading!: () => void;

  constructor() {
    super();
    this.reading = new Promise<void>((resolve) => (this.startReading = resolve));
  }

  override async *streamChunks(partition: number): AsyncIterable<HistoryChunk> {
    this.startReading();
    await this.released;
    yield* super.streamChunks(partition);
  }

  finishReading(): void {
    this.release();
  }
}

const OWNER: Principal = { subject: 'ann', groups: [], kind: 'user' };

describe('the partitions service', () => {
  it('evaluates a segment defined while its partition was loading', async () => {
    const store = new SlowHistoryStore();
    const m = await newTestMembership({ store, owned: [] });
    // a segment needing an aggregate: loading the partition backfills it from history
    const orders = dynamicSegment('seg_orders', { event: { name: 'Order', count: { gte: 1 } } });
    m.definitions.apply([{ segmentId: orders.id, definition: orders }]);
    const loading = m.service.assign([0]);
    await store.reading;
    const vip = dynamicSegment('seg_vip', { hasTag: 'vip' });
    m.definitions.apply([{ segmentId: vip.id, definition: vip }]);
    store.finishReading();
    await loading;

    const ann = profileIn(0, 2, 'ann');
    await m.apply(
      profileChange('c1', ann, { case: 'tagsChanged', value: { added: ['vip'] } } as never),
    );
    await eventually(
      async () =>
        expect(m.events.transitions.map((t) => [t.profileId, t.segmentId, t.kind])).toEqual([
          [ann, 'seg_vip', 'entered'],
        ]),
      2_000,
    );
    await m.stop();
  });

  it('keeps no more subjects live than its setting after a checkpoint, the others packed, and still answers for them', async () => {
    const m = await newTestMembership({ partitions: 1, owned: [0] });
    const vip = dynamicSegment('seg_vip', { hasTag: 'vip' });
    m.definitions.apply([{ segmentId: vip.id, definition: vip }]);
    const people = Array.from({ length: 10 }, (_, i) => `user:p${i}`);
    for (const [i, id] of people.entries())
      await m.apply(
        profileChange(`c${i}`, id, { case: 'tagsChanged', value: { added: ['vip'] } } as never),
      );
    await m.checkpoint();

    const profiles = m.service.local(0)!.ws.profiles;
    expect(profiles.size).toBe(10);
    expect(profiles.liveCount).toBe(2);
    for (const id of people)
      expect((await m.queries.isMember(OWNER, id, [vip.id])).at(0)?.member).toBe(true);
    await m.stop();
  });

  it('logs a refresh that cannot report its progress, and goes on', async () => {
    const events = new RecordingEvents(() => 0);
    events.publishProgress = async () => {
      throw new Error('broker unavailable');
    };
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const m = await newTestMembership({ events, logger });
    const segment = dynamicSegment('seg_refreshed', { hasTag: 'x' });
    m.definitions.apply([{ segmentId: segment.id, definition: segment }]);
    m.service.refresh({
      jobId: 'job-x',
      segmentId: 'seg_refreshed',
      requestedAt: m.clock.now().getTime(),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['refresh failed', 'refresh failed']);
    await m.stop();
  });

  it('does not start a refresh whose requester gave up on it: every partition reports it CANCELLED', async () => {
    const m = await newTestMembership();
    const segment = dynamicSegment('seg_late', { hasTag: 'x' });
    m.definitions.apply([{ segmentId: segment.id, definition: segment }]);
    const requestedAt = m.clock.now().getTime();
    m.clock.advance(60_000); // the command waited (a paused worker) past its start-before
    m.service.refresh({
      jobId: 'job-late',
      segmentId: 'seg_late',
      requestedAt,
      startBefore: requestedAt + 10_000,
    });
    await eventually(async () => {
      expect(m.events.progress.map((r) => [r.partition, r.state, r.detail])).toEqual([
        [0, RefreshState.CANCELLED, expect.stringContaining('expired')],
        [1, RefreshState.CANCELLED, expect.stringContaining('expired')],
      ]);
    });
    await m.stop();
  });

  describe('a rule change', () => {
    /** Four profiles, two per partition, with a plan each; seg_plan at version 1 selects gold. */
    async function withMembers() {
      const m = await newTestMembership();
      const plans = { a: 'gold', b: 'gold', c: 'silver', d: 'silver' };
      const define = (version: bigint, plan: string, init = {}) => {
        const segment = dynamicSegment(
          'seg_plan',
          { trait: { path: 'plan', equals: plan } },
          { version, ...init },
        );
        m.definitions.apply([{ segmentId: segment.id, definition: segment }]);
      };
      define(1n, 'gold');
      let n = 0;
      for (const [name, plan] of Object.entries(plans)) {
        n += 1;
        await m.apply(
          profileChange(`c${n}`, profileIn(n % 2, 2, name), {
            case: 'traitsChanged',
            value: { changes: [{ key: 'plan', value: fromJson(ValueSchema, plan) }] } as never,
          }),
        );
      }
      await eventually(async () => expect(m.events.transitions).toHaveLength(2));
      return { m, define };
    }

    const reports = (m: Awaited<ReturnType<typeof withMembers>>['m']) =>
      m.events.progress.map((r) => [
        r.jobId,
        r.partition,
        r.state,
        r.ruleChange,
        r.entered,
        r.exited,
      ]);

    it('is reported as a job of every partition, RUNNING then SUCCEEDED with the transitions it made', async () => {
      const { m, define } = await withMembers();
      define(2n, 'silver');
      await eventually(async () =>
        expect(m.events.progress.filter((r) => r.state === RefreshState.SUCCEEDED)).toHaveLength(2),
      );
      const made = m.events.transitions.filter(
        (t) => t.cause === TransitionCause.RULE_CHANGE && t.segmentVersion === 2,
      );
      expect(made).toHaveLength(4);
      expect(made.map((t) => t.kind).sort()).toEqual(['entered', 'entered', 'exited', 'exited']);
      expect(reports(m)).toEqual(
        expect.arrayContaining([
          ['seg_plan@v2', 0, RefreshState.RUNNING, true, 0, 0],
          ['seg_plan@v2', 1, RefreshState.RUNNING, true, 0, 0],
          ['seg_plan@v2', 0, RefreshState.SUCCEEDED, true, 1, 1],
          ['seg_plan@v2', 1, RefreshState.SUCCEEDED, true, 1, 1],
        ]),
      );
      expect(m.events.progress).toHaveLength(4);
      expect(m.events.progress.every((r) => r.segmentVersion === 2 && r.total === 2)).toBe(true);
      await m.stop();
    });

    it('is reported when the value trait changes, and not for an edit of neither', async () => {
      const { m, define } = await withMembers();
      define(2n, 'gold', { description: 'only the words' });
      define(3n, 'gold', { valueTrait: 'ltv' });
      await eventually(async () =>
        expect(m.events.progress.filter((r) => r.state === RefreshState.SUCCEEDED)).toHaveLength(2),
      );
      expect(new Set(m.events.progress.map((r) => r.jobId))).toEqual(new Set(['seg_plan@v3']));
      await m.stop();
    });

    it('is not reported for a segment that is not live: its rule applies at its next refresh', async () => {
      const { m, define } = await withMembers();
      define(2n, 'silver', { refresh: { mode: RefreshMode.MANUAL } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(m.events.progress).toEqual([]);
      await m.stop();
    });
  });
});
