import { bucketIndex, bucketStart } from './buckets';
import { canonicalTimeZone, instantFromWall, nextOffsetChange, zoneOffset } from './zone';

const at = (iso: string): number => Date.parse(iso);
const iso = (instant: number): string => new Date(instant).toISOString();

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

describe('offset changes', () => {
  it.each<[string, string, string, string | undefined]>([
    ['Pacific/Chatham', '2024-03-30T00:00:00Z', '2024-04-30T00:00:00Z', '2024-04-06T14:00:00.000Z'],
    [
      'Australia/Lord_Howe',
      '2024-10-05T15:29:59Z',
      '2024-10-06T00:00:00Z',
      '2024-10-05T15:30:00.000Z',
    ],
    ['Europe/Berlin', '2024-10-27T01:00:00Z', '2025-03-30T00:59:59.999Z', undefined],
    ['Asia/Kolkata', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', undefined],
    ['UTC', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', undefined],
  ])('finds the first one in %s after %s up to %s', (zone, after, until, expected) => {
    const change = nextOffsetChange(zone, at(after), at(until));
    expect(change === undefined ? undefined : iso(change)).toBe(expected);
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
