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
});
