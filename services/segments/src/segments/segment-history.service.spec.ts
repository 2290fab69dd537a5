import { toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { ChangeAction, RuleDiffKind, Visibility } from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import {
  ann,
  bob,
  eve,
  exporter,
  newSegmentsTestService,
  refusal,
  tagged,
} from '../../test/segments-test-service';
import { SegmentHistoryService } from './segment-history.service';
import { SegmentUsagesService } from './segment-usages.service';

async function setup() {
  const t = await newSegmentsTestService(SegmentHistoryService);
  /** A segment of ann's at version 3: made with tag "x", described, then its rule set to tag "y". */
  const threeVersions = async () => {
    const made = await t.make(ann, {
      name: 'Buyers',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    await t.update(ann, made.id, 1n, { description: 'big spenders' }, ['description']);
    await t.update(bob, made.id, 2n, { rule: tagged('y') }, ['rule']);
    return made;
  };
  return { ...t, history: t.sut, threeVersions };
}

describe('segment history', () => {
  it('records who changed which fields, newest first', async () => {
    const t = await setup();
    const { id } = await t.threeVersions();
    const changes = await t.history.history({
      id,
      beforeVersion: Number.MAX_SAFE_INTEGER,
      limit: 10,
      principal: eve,
    });
    expect(changes.map((c) => [c.version, c.action, c.changedBy])).toEqual([
      [3n, ChangeAction.UPDATED, 'bob'],
      [2n, ChangeAction.UPDATED, 'ann'],
      [1n, ChangeAction.CREATED, 'ann'],
    ]);
    expect(
      changes[1]?.fields.map((f) => [
        f.field,
        toJson(ValueSchema, f.before!),
        toJson(ValueSchema, f.after!),
      ]),
    ).toEqual([['description', '', 'big spenders']]);
    expect(changes[0]?.fields).toEqual([]);
    expect(changes[0]?.ruleDiff.map((d) => [d.path, d.kind])).toEqual([
      ['condition.hasTag', RuleDiffKind.CHANGED],
    ]);
  });

  it('records a value trait change and reverts to the value trait a version had', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Valued', valueTrait: 'lifetime_value' });
    await t.update(ann, made.id, 1n, { valueTrait: 'orders.total' }, ['valueTrait']);
    const [latest] = await t.history.history({
      id: made.id,
      beforeVersion: Number.MAX_SAFE_INTEGER,
      limit: 1,
      principal: ann,
    });
    expect(
      latest?.fields.map((f) => [
        f.field,
        toJson(ValueSchema, f.before!),
        toJson(ValueSchema, f.after!),
      ]),
    ).toEqual([['valueTrait', 'lifetime_value', 'orders.total']]);
    const { segment } = await t.history.revert({
      id: made.id,
      expectedVersion: 2n,
      toVersion: 1n,
      principal: ann,
    });
    expect([segment.version, segment.valueTrait]).toEqual([3n, 'lifetime_value']);
  });

  it('pages history below a version', async () => {
    const t = await setup();
    const { id } = await t.threeVersions();
    const older = await t.history.history({ id, beforeVersion: 3, limit: 1, principal: ann });
    expect(older.map((c) => c.version)).toEqual([2n]);
  });

  it('answers every earlier version as it was, and no version beyond the current one', async () => {
    const t = await setup();
    const { id } = await t.threeVersions();
    const first = await t.history.version({ id, version: 1n, principal: ann });
    expect([first.version, first.description, first.rule?.condition?.kind.value]).toEqual([
      1n,
      '',
      'x',
    ]);
    for (const version of [0n, 4n]) {
      const missing = await refusal(t.history.version({ id, version, principal: ann }));
      expect([missing.kind, missing.reason]).toEqual([
        ErrorKind.NotFound,
        'SEGMENT_VERSION_NOT_FOUND',
      ]);
    }
  });

  it('reverts to an earlier definition as a new version, saying which', async () => {
    const t = await setup();
    const { id } = await t.threeVersions();
    const { segment } = await t.history.revert({
      id,
      expectedVersion: 3n,
      toVersion: 1n,
      principal: bob,
    });
    expect([segment.version, segment.description, segment.rule?.condition?.kind.value]).toEqual([
      4n,
      '',
      'x',
    ]);
    const [latest] = await t.history.history({ id, beforeVersion: 99, limit: 1, principal: ann });
    expect([latest?.action, latest?.revertedTo, latest?.changedBy]).toEqual([
      ChangeAction.REVERTED,
      1n,
      'bob',
    ]);
  });

  it('checks a revert as an edit: by the owner or an editor, at the current version, unlocked', async () => {
    const t = await setup();
    const { id } = await t.threeVersions();
    const revert = (principal = ann, expectedVersion = 3n) =>
      refusal(t.history.revert({ id, expectedVersion, toVersion: 1n, principal }));
    expect((await revert(eve)).reason).toBe('SEGMENT_EDITORS_ONLY');
    expect((await revert(ann, 2n)).reason).toBe('SEGMENT_VERSION_CONFLICT');
    await t.get(SegmentUsagesService).setDestinationUsage({
      segmentId: id,
      destination: { id: 'dest_1', name: 'CRM', autoSync: true },
      inUse: true,
      principal: exporter,
    });
    expect((await revert(ann, 4n)).reason).toBe('SEGMENT_LOCKED');
  });

  it('keeps history readable after a delete, until the segment is purged', async () => {
    const t = await setup();
    const { id } = await t.threeVersions();
    await t.segments.delete({ id, expectedVersion: 3n, force: false, principal: ann });
    const all = () => t.history.history({ id, beforeVersion: 99, limit: 10, principal: ann });
    expect((await all()).map((c) => c.action)[0]).toBe(ChangeAction.DELETED);
    await t.segments.purge({ id, principal: ann });
    expect((await refusal(all())).kind).toBe(ErrorKind.NotFound);
  });
});
