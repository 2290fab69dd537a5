import { SegmentKind, Visibility } from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import { InMemoryListMemberRepository } from '../../test/in-memory-list-members.repository';
import {
  ChangeCounter,
  ann,
  bob,
  eve,
  exporter,
  newSegmentsTestService,
  refusal,
} from '../../test/segments-test-service';
import { SegmentUsagesService } from '../segments/segment-usages.service';
import { LIST_MEMBER_REPOSITORY } from './list-members.repository.port';
import { ListMembersService } from './list-members.service';
import { LIST_MEMBER_CHANGES, StaticListsService } from './static-lists.service';
import { STATIC_LIST_USE_CASES } from './static-lists.module';

async function setup() {
  const published = new ChangeCounter();
  const t = await newSegmentsTestService(StaticListsService, {
    providers: [
      ...STATIC_LIST_USE_CASES,
      { provide: LIST_MEMBER_REPOSITORY, useValue: new InMemoryListMemberRepository() },
      { provide: LIST_MEMBER_CHANGES, useValue: published },
    ],
  });
  const list = await t.make(
    ann,
    { name: 'Team list', visibility: Visibility.SHARED, editors: { subjects: ['bob'] } },
    SegmentKind.STATIC_LIST,
  );
  const members = async (listId = list.id) =>
    t.sut.page({ listId, afterMemberId: '', limit: 1000, principal: ann });
  return { ...t, lists: t.sut, list, members, published };
}

describe('static lists', () => {
  it('lets the list’s owner and editors change its members, and no one else', async () => {
    const t = await setup();
    expect(await t.lists.add({ listId: t.list.id, memberIds: ['m1', 'm2'], principal: ann })).toBe(
      2,
    );
    expect(await t.lists.remove({ listId: t.list.id, memberIds: ['m1'], principal: bob })).toBe(1);
    const seen = await refusal(
      t.lists.add({ listId: t.list.id, memberIds: ['m3'], principal: eve }),
    );
    expect([seen.kind, seen.reason]).toEqual([ErrorKind.PermissionDenied, 'SEGMENT_EDITORS_ONLY']);
    const mine = await t.make(ann, { name: 'Mine' }, SegmentKind.STATIC_LIST);
    const unseen = await refusal(t.lists.count({ listId: mine.id, principal: bob }));
    expect(unseen.kind).toBe(ErrorKind.NotFound);
    expect(await t.members()).toEqual(['m2']);
  });

  it('has the relay publish only changes that changed something', async () => {
    const t = await setup();
    await t.lists.add({ listId: t.list.id, memberIds: ['m1'], principal: ann });
    await t.lists.add({ listId: t.list.id, memberIds: ['m1'], principal: ann });
    await t.lists.remove({ listId: t.list.id, memberIds: ['m9'], principal: ann });
    expect(t.published.count).toBe(1);
  });

  it('refuses member changes on a dynamic segment', async () => {
    const t = await setup();
    const dynamic = await t.make(ann, { name: 'Dynamic' });
    const refused = await refusal(
      t.lists.add({ listId: dynamic.id, memberIds: ['m'], principal: ann }),
    );
    expect([refused.kind, refused.reason]).toEqual([
      ErrorKind.FailedPrecondition,
      'NOT_A_STATIC_LIST',
    ]);
  });

  it('refuses a call without ids or with bad ones, with the index of each', async () => {
    const t = await setup();
    const none = await refusal(t.lists.add({ listId: t.list.id, memberIds: [], principal: ann }));
    expect(none.violations).toEqual([
      { field: 'memberIds', description: 'give at least one member id' },
    ]);
    const bad = await refusal(
      t.lists.add({ listId: t.list.id, memberIds: ['ok', '', 'x'.repeat(257)], principal: ann }),
    );
    expect(bad.violations.map((v) => v.field)).toEqual(['memberIds[1]', 'memberIds[2]']);
  });

  it('refuses more members than STATIC_LIST_MAX_MEMBERS, adding none', async () => {
    const t = await setup();
    const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    await t.lists.add({ listId: t.list.id, memberIds: ids(90, 'a'), principal: ann });
    const full = await refusal(
      t.lists.add({ listId: t.list.id, memberIds: ids(11, 'b'), principal: ann }),
    );
    expect([full.kind, full.reason, full.message]).toEqual([
      ErrorKind.ResourceExhausted,
      'LIMIT_EXCEEDED',
      `list ${t.list.id} has 90 members and 11 more would exceed it: the limit STATIC_LIST_MAX_MEMBERS is 100`,
    ]);
    expect(await t.lists.count({ listId: t.list.id, principal: ann })).toBe(90);
  });

  it('changes members while a destination locks the list’s definition', async () => {
    const t = await setup();
    await t.get(SegmentUsagesService).setDestinationUsage({
      segmentId: t.list.id,
      destination: { id: 'dest_1', name: 'CRM', autoSync: true },
      inUse: true,
      principal: exporter,
    });
    expect(await t.lists.add({ listId: t.list.id, memberIds: ['m1'], principal: bob })).toBe(1);
  });

  it('gives a duplicate of a list the members of the original', async () => {
    const t = await setup();
    await t.lists.add({ listId: t.list.id, memberIds: ['m2', 'm1'], principal: ann });
    const copy = await t.segments.duplicate({ id: t.list.id, name: '', principal: eve });
    expect(
      await t.lists.page({ listId: copy.id, afterMemberId: '', limit: 10, principal: eve }),
    ).toEqual(['m1', 'm2']);
  });

  it('reconciles the kept member counts of live lists with their committed members, keeping newer ones', async () => {
    const t = await setup();
    // committed without their counts kept: as before counts were kept, or a crash in between
    const commitOnly = (listId: string, memberIds: string[]) =>
      t.get(ListMembersService).change({
        listId,
        memberIds,
        member: true,
        changedBy: 'ann',
        maxMembers: 100,
      });
    const newer = await t.make(ann, { name: 'Newer' }, SegmentKind.STATIC_LIST);
    const gone = await t.make(ann, { name: 'Gone' }, SegmentKind.STATIC_LIST);
    const stale = await t.make(ann, { name: 'Stale' }, SegmentKind.STATIC_LIST);
    await commitOnly(t.list.id, ['m1', 'm2', 'm3']);
    await commitOnly(newer.id, ['m1']);
    await t.repository.saveListMemberCount(newer.id, 50, 99);
    await commitOnly(gone.id, ['m1', 'm2']);
    await t.segments.delete({ id: gone.id, expectedVersion: 1n, force: false, principal: ann });
    await t.lists.add({ listId: stale.id, memberIds: ['m1'], principal: ann });
    await commitOnly(stale.id, ['m2']);
    const shown = async (id: string) => (await t.repository.findById(id))?.segment.memberCount;

    expect(await t.lists.reconcileMemberCounts('')).toEqual({ reconciled: 2, next: undefined });

    expect(await shown(t.list.id)).toBe(3n);
    expect(await shown(stale.id)).toBe(2n);
    expect(await shown(newer.id)).toBe(50n);
    expect(await shown(gone.id)).toBe(0n);
    expect(await t.lists.reconcileMemberCounts('')).toEqual({ reconciled: 0, next: undefined });
  });

  it('reconciles member counts a page of 100 lists at a time, continuing after the last list read', async () => {
    const t = await setup();
    const made = [t.list.id];
    for (const owner of [ann, bob])
      for (let i = 0; i < 60; i += 1)
        made.push((await t.make(owner, { name: `List ${i}` }, SegmentKind.STATIC_LIST)).id);
    for (const listId of made)
      await t
        .get(ListMembersService)
        .change({ listId, memberIds: ['m1'], member: true, changedBy: 'ann', maxMembers: 100 });
    const ids = [...made].sort();

    const first = await t.lists.reconcileMemberCounts('');
    expect(first).toEqual({ reconciled: 100, next: ids[99] });
    expect(await t.lists.reconcileMemberCounts(first.next!)).toEqual({
      reconciled: 21,
      next: undefined,
    });
    const counts = await Promise.all(
      made.map(async (id) => (await t.repository.findById(id))?.segment.memberCount),
    );
    expect(counts.every((c) => c === 1n)).toBe(true);
  });
});
