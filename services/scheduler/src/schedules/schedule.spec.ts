import { DEFAULT_SCHEDULE, dueTick, nextTicks, scheduleViolations } from './schedule';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | undefined) => d?.toISOString();

/** Every tick the schedule fires when it is looked at every `stepMinutes` from `from` to `to`. */
function fired(
  schedule: { cron: string; timeZone: string },
  from: string,
  to: string,
  stepMinutes = 15,
): string[] {
  const out: string[] = [];
  let last = at(from);
  for (let now = at(from).getTime(); now <= at(to).getTime(); now += stepMinutes * 60_000) {
    const tick = dueTick(schedule, last, new Date(now));
    if (tick) {
      out.push(tick.toISOString());
      last = tick;
    }
  }
  return out;
}

describe('schedules', () => {
  it('default to every 4 hours on the hour, UTC', () => {
    expect(DEFAULT_SCHEDULE).toEqual({ cron: '0 */4 * * *', timeZone: '' });
    expect(nextTicks(DEFAULT_SCHEDULE, at('2026-12-01T01:30:00Z'), 3).map(iso)).toEqual([
      '2026-12-01T04:00:00.000Z',
      '2026-12-01T08:00:00.000Z',
      '2026-12-01T12:00:00.000Z',
    ]);
    expect(fired(DEFAULT_SCHEDULE, '2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z')).toEqual([
      '2026-12-01T04:00:00.000Z',
      '2026-12-01T08:00:00.000Z',
      '2026-12-01T12:00:00.000Z',
      '2026-12-01T16:00:00.000Z',
      '2026-12-01T20:00:00.000Z',
      '2026-12-02T00:00:00.000Z',
    ]);
  });

  it('fire a tick once it is due, and not before', () => {
    const after = at('2026-12-01T00:00:00Z');
    expect(dueTick(DEFAULT_SCHEDULE, after, at('2026-12-01T03:59:59.999Z'))).toBeUndefined();
    expect(iso(dueTick(DEFAULT_SCHEDULE, after, at('2026-12-01T04:00:00Z')))).toBe(
      '2026-12-01T04:00:00.000Z',
    );
    expect(
      dueTick(DEFAULT_SCHEDULE, at('2026-12-01T04:00:00Z'), at('2026-12-01T04:00:30Z')),
    ).toBeUndefined();
  });

  it('run a schedule missed while the scheduler was down once, for the latest missed tick', () => {
    const lastRun = at('2026-12-01T04:00:00Z');
    const recovered = at('2026-12-02T09:15:00Z');
    expect(iso(dueTick(DEFAULT_SCHEDULE, lastRun, recovered))).toBe('2026-12-02T08:00:00.000Z');
    expect(
      dueTick(DEFAULT_SCHEDULE, at('2026-12-02T08:00:00Z'), at('2026-12-02T09:16:00Z')),
    ).toBeUndefined();
  });

  it('read the expression in the segment’s time zone', () => {
    const nineInParis = { cron: '0 9 * * *', timeZone: 'Europe/Paris' };
    expect(nextTicks(nineInParis, at('2026-12-01T00:00:00Z'), 1).map(iso)).toEqual([
      '2026-12-01T08:00:00.000Z',
    ]);
    expect(nextTicks(nineInParis, at('2026-07-01T00:00:00Z'), 1).map(iso)).toEqual([
      '2026-07-01T07:00:00.000Z',
    ]);
    const nineInTokyo = { cron: '0 9 * * 1', timeZone: 'Asia/Tokyo' };
    expect(nextTicks(nineInTokyo, at('2026-12-01T00:00:00Z'), 1).map(iso)).toEqual([
      '2026-12-07T00:00:00.000Z',
    ]);
  });

  it('run a time the spring-forward jump skips once, just after the jump', () => {
    const halfPastTwo = { cron: '30 2 * * *', timeZone: 'America/New_York' };
    expect(fired(halfPastTwo, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      '2026-03-08T07:30:00.000Z', // 03:30 EDT: 02:30 did not exist that night
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('run a time the fall-back repeat shows twice once, at its first occurrence', () => {
    const halfPastOne = { cron: '30 1 * * *', timeZone: 'America/New_York' };
    expect(fired(halfPastOne, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; 01:30 EST an hour later does not run again
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('keep hourly schedules hourly through both daylight-saving changes', () => {
    const hourly = { cron: '0 * * * *', timeZone: 'America/New_York' };
    expect(fired(hourly, '2026-03-08T05:30:00Z', '2026-03-08T08:30:00Z')).toHaveLength(3);
    expect(fired(hourly, '2026-11-01T04:30:00Z', '2026-11-01T07:30:00Z')).toHaveLength(3);
  });

  it.each([
    ['0 */4 * *', 'Europe/Paris', 'schedule.cron', 'needs five fields'],
    ['61 * * * *', '', 'schedule.cron', 'is not a valid cron expression'],
    ['0 * * * *', 'Mars/Olympus', 'schedule.timeZone', 'is not an IANA time zone'],
  ])('refuse %j in %j with the reason at its field', (cron, timeZone, field, reason) => {
    const [violation, ...others] = scheduleViolations({ cron, timeZone });
    expect(others).toEqual([]);
    expect(violation?.field).toBe(field);
    expect(violation?.description).toContain(reason);
  });

  it('accept a valid expression in a valid zone', () => {
    expect(scheduleViolations({ cron: '15 6 * * 1-5', timeZone: 'Asia/Kolkata' })).toEqual([]);
  });
});
