import type { PlatformContext } from '@shoal/platform';
import { FixedClock } from '@shoal/testing';
import type { Db } from 'mongodb';
import pino from 'pino';
import type { DefinitionsFollower } from '../definitions/definitions.follower';
import type { InsightService } from '../insight/insight.service';
import type { SegmentStatusFollower } from '../insight/segment-status.follower';
import type { JobProgressFollower } from '../jobs/job-progress.follower';
import type { JobsService } from '../jobs/jobs.service';
import type { SchedulesService } from '../schedules/schedules.service';
import { Ticker } from './ticker';

/** A follower whose stop() ends only when the test says so, as a consumer leaving its group. */
class SlowFollower {
  stopping = false;
  private done: () => void = () => undefined;
  stop(): Promise<void> {
    this.stopping = true;
    return new Promise((resolve) => {
      this.done = resolve;
    });
  }
  finish(): void {
    this.done();
  }
}

describe('Ticker', () => {
  it('stops following definitions, statuses and job progress together, so their waits do not add up', async () => {
    const definitions = new SlowFollower();
    const statuses = new SlowFollower();
    const progress = new SlowFollower();
    const ticker = new Ticker(
      { tickMs: 1_000, leaseMs: 15_000 },
      {} as PlatformContext,
      pino({ level: 'silent' }),
      new FixedClock(),
      { collection: () => ({}) } as unknown as Db,
      definitions as unknown as DefinitionsFollower,
      statuses as unknown as SegmentStatusFollower,
      progress as unknown as JobProgressFollower,
      {} as SchedulesService,
      {} as JobsService,
      {} as InsightService,
    );

    const stopped = ticker.beforeApplicationShutdown();
    await new Promise(setImmediate);
    expect({
      definitions: definitions.stopping,
      statuses: statuses.stopping,
      progress: progress.stopping,
    }).toEqual({ definitions: true, statuses: true, progress: true });

    for (const follower of [definitions, statuses, progress]) follower.finish();
    await stopped;
  });
});
