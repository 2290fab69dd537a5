import { ChangeAction, SegmentKind, Visibility } from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import { ann, bob, eve, newSegmentsTestService, refusal } from '../../test/segments-test-service';
import { revised } from './segment-definitions';
import { SegmentVersions } from './segment-versions.service';

async function setup() {
  const t = await newSegmentsTestService(SegmentVersions);
  const shared = await t.make(ann, {
    name: 'Team',
    visibility: Visibility.SHARED,
    editors: { subjects: ['bob'] },
  });
  return { ...t, versions: t.sut, shared };
}

describe('segment versions', () => {
  it('reads a segment for those who see it; a deleted one only for its history', async () => {
    const t = await setup();
    expect((await t.versions.visible(t.shared.id, eve)).segment.name).toBe('Team');
    await t.segments.delete({ id: t.shared.id, expectedVersion: 1n, force: false, principal: ann });
    expect((await refusal(t.versions.visible(t.shared.id, ann))).kind).toBe(ErrorKind.NotFound);
    expect((await t.versions.readable(t.shared.id, eve)).deleted).toBe(true);
    const mine = await t.make(ann, { name: 'Mine' });
    expect((await refusal(t.versions.readable(mine.id, eve))).kind).toBe(ErrorKind.NotFound);
  });

  it('commits the next version with its history entry, and has it published', async () => {
    const t = await setup();
    const current = await t.versions.editable(t.shared.id, 1n, bob);
    t.clock.advance(1_000);
    const next = revised(current.segment, { description: 'by bob' });
    const committed = await t.versions.commit(current, next, ChangeAction.UPDATED, bob);
    expect([committed.version, committed.updatedBy, committed.description]).toEqual([
      2n,
      'bob',
      'by bob',
    ]);
    const recorded = await t.repository.findVersion(t.shared.id, 2);
    expect([recorded?.change.action, recorded?.change.changedBy, recorded?.snapshot]).toEqual([
      ChangeAction.UPDATED,
      'bob',
      revised(committed, { publication: undefined }),
    ]);
    const [pending] = await t.repository.withPendingChanges({ maxSegments: 1, maxBytes: 1 << 20 });
    expect(pending?.pending.map((p) => p.version)).toEqual([1, 2]);
    expect(t.changes.count).toBe(2);
  });

  it('refuses a commit that lost the race to another change, telling the version it lost to', async () => {
    const t = await setup();
    const read = await t.versions.editable(t.shared.id, 1n, ann);
    await t.update(bob, t.shared.id, 1n, { description: 'first' }, ['description']);
    const late = revised(read.segment, { description: 'late' });
    const lost = await refusal(t.versions.commit(read, late, ChangeAction.UPDATED, ann));
    expect([lost.kind, lost.reason, lost.message]).toEqual([
      ErrorKind.Aborted,
      'SEGMENT_VERSION_CONFLICT',
      `segment ${t.shared.id} is at version 2, not 1: read it again and retry`,
    ]);
    expect((await t.versions.visible(t.shared.id, ann)).segment.description).toBe('first');
  });

  it('refuses a commit that would give the owner two segments of one name', async () => {
    const t = await setup();
    await t.make(ann, { name: 'Taken' }, SegmentKind.STATIC_LIST);
    const current = await t.versions.editable(t.shared.id, 1n, ann);
    const renamed = revised(current.segment, { name: 'TAKEN' });
    const taken = await refusal(t.versions.commit(current, renamed, ChangeAction.RENAMED, ann));
    expect([taken.kind, taken.reason]).toEqual([ErrorKind.AlreadyExists, 'SEGMENT_NAME_TAKEN']);
  });
});
