import { create, fromJson, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { RuleDiffKind, SegmentSchema, Visibility } from '@shoal/contracts';
import { fieldChanges, ruleDiff } from './history';

const json = (value: Parameters<typeof fromJson<typeof ValueSchema>>[1]) => value;

describe('history', () => {
  it('lists each changed field with its value before and after', () => {
    const before = create(SegmentSchema, {
      name: 'A',
      tags: ['x'],
      visibility: Visibility.PRIVATE,
    });
    const after = create(SegmentSchema, { name: 'B', tags: ['x'], visibility: Visibility.SHARED });
    const changes = fieldChanges(before, after).map((c) => [
      c.field,
      toJson(ValueSchema, c.before!),
      toJson(ValueSchema, c.after!),
    ]);
    expect(changes).toEqual([
      ['name', 'A', 'B'],
      ['visibility', 'VISIBILITY_PRIVATE', 'VISIBILITY_SHARED'],
    ]);
  });

  it('diffs rules structurally, by path', () => {
    const before = json({
      condition: {
        all: { conditions: [{ hasTag: 'a' }, { event: { name: 'x', count: { gt: 1 } } }] },
      },
    });
    const after = json({
      condition: {
        all: {
          conditions: [
            { hasTag: 'a' },
            { event: { name: 'x', count: { gt: 2 } } },
            { lacksTag: 'b' },
          ],
        },
      },
    });
    const diff = ruleDiff(before, after).map((d) => [d.path, d.kind]);
    expect(diff).toEqual([
      ['condition.all.conditions[1].event.count.gt', RuleDiffKind.CHANGED],
      ['condition.all.conditions[2]', RuleDiffKind.ADDED],
    ]);
    expect(ruleDiff(before, before)).toEqual([]);
    expect(ruleDiff(before, undefined).map((d) => d.kind)).toEqual([RuleDiffKind.REMOVED]);
  });
});
