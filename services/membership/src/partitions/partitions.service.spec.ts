import { fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { RefreshMode, RefreshState, TransitionCause } from '@shoal/contracts';
import { eventually } from '@shoal/testing';
import pino from 'pino';
import { profileChange } from '../../test/evaluation/scenario';
import { RecordingEvents } from '../../test/support/recording-events';
import { dynamicSegment, newTestMembership, profileIn } from '../../test/support/test-membership';

describe('the partitions service', () => {
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
