import { RefreshState } from '@shoal/contracts';
import { eventually } from '@shoal/testing';
import pino from 'pino';
import { RecordingEvents } from '../../test/support/recording-events';
import { dynamicSegment, newTestMembership } from '../../test/support/test-membership';

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
});
