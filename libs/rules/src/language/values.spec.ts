import type { JsonObject } from '@bufbuild/protobuf';
import { canonicalJson, resolvePath } from './values';

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
