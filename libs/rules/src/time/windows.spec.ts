import fc from 'fast-check';
import { TIME_ZONES, propertyRuns } from '../testing/arbitraries';
import {
  DAY_MS,
  addMonths,
  bucketIndex,
  bucketStart,
  canonicalTimeZone,
  instantFromWall,
  parseInstant,
  windowBucketRange,
  windowLeaveIndex,
  zoneOffset,
  type BucketUnit,
} from './windows';

const at = (iso: string): number => Date.parse(iso);
const iso = (instant: number): string => new Date(instant).toISOString();
const UNITS: BucketUnit[] = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

describe('zone offsets', () => {
  it.each([
    ['UTC', '2024-07-01T00:00:00Z', 0],
    ['Europe/Berlin', '2024-01-15T12:00:00Z', 60],
    ['Europe/Berlin', '2024-07-15T12:00:00Z', 120],
    ['Asia/Kolkata', '2024-07-15T12:00:00Z', 330],
    ['Asia/Kathmandu', '2024-07-15T12:00:00Z', 345],
    ['Pacific/Chatham', '2024-01-15T12:00:00Z', 825],
    ['America/New_York', '2024-11-03T05:59:59Z', -240],
    ['America/New_York', '2024-11-03T06:00:00Z', -300],
  ])('%s is offset by the right minutes at %s', (zone, instant, minutes) => {
    expect(zoneOffset(zone, at(instant))).toBe(minutes * 60_000);
  });

  it('spells zones canonically', () => {
    expect(canonicalTimeZone('')).toBe('UTC');
    expect(canonicalTimeZone('Etc/UTC')).toBe('UTC');
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(() => canonicalTimeZone('Mars/Olympus')).toThrow('unknown time zone');
  });
});

describe('wall-clock times', () => {
  const wall = (text: string): number => Date.parse(`${text}Z`);

  it('reads a wall time repeated by a DST fall-back as its earlier occurrence', () => {
    expect(iso(instantFromWall('America/New_York', wall('2024-11-03T01:30:00')))).toBe(
      '2024-11-03T05:30:00.000Z',
    );
  });

  it('moves a wall time skipped by a DST gap forward by the gap', () => {
    expect(iso(instantFromWall('America/New_York', wall('2024-03-10T02:30:00')))).toBe(
      '2024-03-10T07:30:00.000Z',
    );
  });

  it('starts a day whose midnight is skipped at the jump (Santiago)', () => {
    expect(iso(instantFromWall('America/Santiago', wall('2024-09-08T00:00:00')))).toBe(
      '2024-09-08T04:00:00.000Z',
    );
    const day = bucketIndex('day', at('2024-09-08T12:00:00Z'), 'America/Santiago');
    expect(iso(bucketStart('day', day, 'America/Santiago'))).toBe('2024-09-08T04:00:00.000Z');
  });
});

describe('buckets', () => {
  it('gives the repeated hour of a DST fall-back one two-hour bucket', () => {
    const zone = 'America/New_York';
    const first = bucketIndex('hour', at('2024-11-03T05:10:00Z'), zone);
    expect(bucketIndex('hour', at('2024-11-03T06:50:00Z'), zone)).toBe(first);
    expect(iso(bucketStart('hour', first, zone))).toBe('2024-11-03T05:00:00.000Z');
    expect(iso(bucketStart('hour', first + 1, zone))).toBe('2024-11-03T07:00:00.000Z');
  });

  it('leaves the skipped hour of a DST spring-forward empty', () => {
    const zone = 'America/New_York';
    const before = bucketIndex('hour', at('2024-03-10T06:30:00Z'), zone);
    expect(bucketIndex('hour', at('2024-03-10T07:00:00Z'), zone)).toBe(before + 2);
    expect(bucketStart('hour', before + 1, zone)).toBe(bucketStart('hour', before + 2, zone));
  });

  it('aligns hours to the zone (half-hour zones start hours at :30 UTC)', () => {
    const hour = bucketIndex('hour', at('2024-07-01T10:45:00Z'), 'Asia/Kolkata');
    expect(iso(bucketStart('hour', hour, 'Asia/Kolkata'))).toBe('2024-07-01T10:30:00.000Z');
  });

  it('starts weeks on Monday', () => {
    const week = bucketIndex('week', at('2024-09-01T12:00:00Z'), 'UTC');
    expect(iso(bucketStart('week', week, 'UTC'))).toBe('2024-08-26T00:00:00.000Z');
  });

  it.each<[BucketUnit, string, string, string]>([
    ['day', 'Europe/Berlin', '2024-03-31T12:00:00Z', '2024-03-30T23:00:00.000Z'],
    ['month', 'Europe/Berlin', '2024-03-31T22:30:00Z', '2024-03-31T22:00:00.000Z'],
    ['quarter', 'America/New_York', '2024-05-20T00:00:00Z', '2024-04-01T04:00:00.000Z'],
    ['year', 'Pacific/Chatham', '2024-12-31T12:00:00Z', '2024-12-31T10:15:00.000Z'],
  ])('starts the %s bucket in %s at the local boundary', (unit, zone, instant, start) => {
    expect(iso(bucketStart(unit, bucketIndex(unit, at(instant), zone), zone))).toBe(start);
  });

  it('keeps bucket indices and starts consistent and monotone in every test zone', () => {
    const instant = fc.integer({
      min: at('2019-01-01T00:00:00Z'),
      max: at('2026-12-31T00:00:00Z'),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...TIME_ZONES),
        fc.constantFrom(...UNITS),
        instant,
        fc.nat(40 * DAY_MS),
        (zone, unit, t, step) => {
          const index = bucketIndex(unit, t, zone);
          const start = bucketStart(unit, index, zone);
          expect(start).toBeLessThanOrEqual(t);
          expect(bucketIndex(unit, start, zone)).toBe(index);
          expect(bucketIndex(unit, start - 1, zone)).toBeLessThan(index);
          expect(bucketStart(unit, index + 1, zone)).toBeGreaterThan(t);
          expect(bucketIndex(unit, t + step, zone)).toBeGreaterThanOrEqual(index);
          if (unit === 'day') expect(start).toBe(instantFromWall(zone, index * DAY_MS));
        },
      ),
      { numRuns: propertyRuns(300, process.env['FC_RUNS']) },
    );
  });
});

describe('sliding windows', () => {
  const day = (text: string): number => Math.round(Date.parse(`${text}T00:00:00Z`) / DAY_MS);

  it('makes "last 7 days" today and the 6 previous calendar days', () => {
    expect(windowBucketRange({ kind: 'last', count: 7 }, day('2024-03-31'))).toEqual([
      day('2024-03-25'),
      day('2024-03-31'),
    ]);
  });

  it.each([
    ['2024-05-15', 1, '2024-04-16'],
    ['2024-03-31', 1, '2024-03-01'],
    ['2024-03-30', 1, '2024-03-01'],
    ['2024-03-01', 1, '2024-02-02'],
    ['2025-01-10', 3, '2024-10-11'],
  ])(
    'makes "last %s months" (%i) start on the day after today minus the months',
    (today, months, first) => {
      expect(windowBucketRange({ kind: 'months', count: months }, day(today))[0]).toBe(day(first));
    },
  );

  it('lets a day leave a months window on the first day whose window starts after it', () => {
    const shape = { kind: 'months', count: 1 } as const;
    for (const bucket of [day('2024-01-31'), day('2024-02-29'), day('2024-12-15')]) {
      const leave = windowLeaveIndex(shape, bucket);
      expect(windowBucketRange(shape, leave)[0]).toBeGreaterThan(bucket);
      expect(windowBucketRange(shape, leave - 1)[0]).toBeLessThanOrEqual(bucket);
    }
  });

  it('covers exactly one period for a calendar window', () => {
    expect(windowBucketRange({ kind: 'calendar', offset: -1 }, 2024)).toEqual([2023, 2023]);
  });

  it('clamps days when adding months', () => {
    expect(addMonths({ year: 2024, month: 3, day: 31 }, -1)).toEqual({
      year: 2024,
      month: 2,
      day: 29,
    });
    expect(addMonths({ year: 2024, month: 1, day: 31 }, 13)).toEqual({
      year: 2025,
      month: 2,
      day: 28,
    });
  });
});

describe('parseInstant', () => {
  it.each<[string | number | boolean, string, string | undefined]>([
    ['2024-06-15T12:00:00Z', 'UTC', '2024-06-15T12:00:00.000Z'],
    ['2024-06-15T12:00:00.123456Z', 'UTC', '2024-06-15T12:00:00.123Z'],
    ['2024-06-15T12:00:00+02:00', 'UTC', '2024-06-15T10:00:00.000Z'],
    ['2024-06-15T12:00-0530', 'UTC', '2024-06-15T17:30:00.000Z'],
    ['2024-06-15T12:00:00', 'Europe/Berlin', '2024-06-15T10:00:00.000Z'],
    ['2024-06-15', 'Europe/Berlin', '2024-06-14T22:00:00.000Z'],
    ['2024-06-15 08:30', 'UTC', '2024-06-15T08:30:00.000Z'],
    [1718452800000, 'UTC', '2024-06-15T12:00:00.000Z'],
    ['2024-02-30', 'UTC', undefined],
    ['2024-06-15T25:00:00Z', 'UTC', undefined],
    ['June 15, 2024', 'UTC', undefined],
    [true, 'UTC', undefined],
  ])('reads %j in %s', (value, zone, expected) => {
    const instant = parseInstant(value, zone);
    expect(instant === undefined ? undefined : new Date(instant).toISOString()).toBe(expected);
  });
});
