import fc from 'fast-check';
import { TIME_ZONES, propertyRuns } from '../testing/arbitraries';
import {
  bucketIndex,
  bucketStart,
  lowestBucketFrom,
  parseInstant,
  type BucketUnit,
} from './buckets';
import { DAY_MS } from './calendar';
import { instantFromWall } from './zone';

const at = (iso: string): number => Date.parse(iso);
const iso = (instant: number): string => new Date(instant).toISOString();
const UNITS: BucketUnit[] = ['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

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

  it('goes back an hour where the clock falls back across an hour boundary (Pacific/Chatham)', () => {
    const zone = 'Pacific/Chatham';
    const three = bucketIndex('hour', at('2024-04-06T13:50:00Z'), zone); // 03:35 +13:45
    expect(bucketIndex('hour', at('2024-04-06T14:05:00Z'), zone)).toBe(three - 1); // 02:50 +12:45
    expect(bucketIndex('hour', at('2024-04-06T14:20:00Z'), zone)).toBe(three); // 03:05 +12:45
    expect(iso(bucketStart('hour', three, zone))).toBe('2024-04-06T13:15:00.000Z');
    expect(lowestBucketFrom('hour', at('2024-04-06T13:50:00Z'), zone)).toBe(three - 1);
    expect(lowestBucketFrom('hour', at('2024-04-06T14:20:00Z'), zone)).toBe(three);
  });

  it('keeps bucket indices and starts consistent in every test zone', () => {
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
          const lowest = lowestBucketFrom(unit, t, zone);
          expect(lowest).toBeLessThanOrEqual(index);
          expect(bucketIndex(unit, t + step, zone)).toBeGreaterThanOrEqual(lowest);
          if (unit === 'day') expect(start).toBe(instantFromWall(zone, index * DAY_MS));
        },
      ),
      { numRuns: propertyRuns(300, process.env['FC_RUNS']) },
    );
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
