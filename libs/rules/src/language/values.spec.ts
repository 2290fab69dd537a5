import type { JsonObject } from '@bufbuild/protobuf';
import { canonicalJson, parseInstant, resolvePath } from './values';

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

describe('resolvePath', () => {
  const record: JsonObject = { a: { b: 1 }, list: [{ x: 1, y: [2, 3] }, { x: 4 }, 5], empty: [] };
  it.each<[string, unknown]>([
    ['a.b', 1],
    ['a.c', undefined],
    ['list.x', [1, 4]],
    ['list.y', [2, 3]],
    ['list.1.x', 4],
    ['list.9', undefined],
    ['list.z', undefined],
    ['empty', []],
    ['a..b', undefined],
    ['', undefined],
  ])('%s', (path, expected) => {
    expect(resolvePath(record, path)).toEqual(expected);
  });
});

describe('canonicalJson', () => {
  it('sorts object keys so equal values give equal strings', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});
