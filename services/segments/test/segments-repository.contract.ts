import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  ChangeAction,
  PublicationState,
  RefreshMode,
  type Segment,
  SegmentChangeSchema,
  SegmentKind,
  SegmentSchema,
  SegmentSort,
  SegmentState,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';
import { type SegmentInit, revised } from '../src/segments/segment-definitions';
import type {
  PendingChange,
  SegmentListCriteria,
  SegmentRepositoryPort,
  StoredSegment,
} from '../src/segments/segments.repository.port';

const T0 = Date.UTC(2026, 11, 1);

/** A live segment at version 1 (or the given one), owned by ann unless said otherwise. */
export function storedSegment(
  fields: SegmentInit & { id: string },
  extra: Partial<StoredSegment> = {},
): StoredSegment {
  const defaults: SegmentInit = {
    kind: SegmentKind.DYNAMIC,
    owner: 'ann',
    name: fields.id,
    version: 1n,
    status: SegmentStatus.ACTIVE,
    visibility: Visibility.PRIVATE,
    createdAt: timestampFromMs(T0),
    updatedAt: timestampFromMs(T0),
    refresh: { mode: RefreshMode.REALTIME },
  };
  const segment = create(SegmentSchema, { ...defaults, ...fields } as SegmentInit);
  return { segment, references: [], destinations: [], deleted: false, ...extra };
}

/** The change that produced `segment`'s current version. */
export function changeOf(segment: Segment, action = ChangeAction.UPDATED): PendingChange {
  return {
    version: Number(segment.version),
    snapshot: segment,
    change: create(SegmentChangeSchema, {
      version: segment.version,
      action,
      changedBy: segment.owner,
    }),
  };
}

/** `stored` at its next version, with `changes` to its definition. */
export function nextVersion(
  stored: StoredSegment,
  changes: SegmentInit = {},
  extra: Partial<StoredSegment> = {},
): StoredSegment {
  const segment = revised(stored.segment, { ...changes, version: stored.segment.version + 1n });
  return { ...stored, segment, ...extra };
}

const everything: SegmentListCriteria = {
  kinds: [],
  refreshModes: [],
  statuses: [],
  visibilities: [],
  tags: [],
  owners: [],
  search: '',
  sort: SegmentSort.UNSPECIFIED,
  descending: false,
  limit: 100,
};

/**
 * What every segment repository guarantees, run against the in-memory fake (unit tests) and
 * the MongoDB repository (integration tests on the real store), so the fake the service tests
 * use behaves as production does.
 */
export function segmentRepositoryContract(repository: () => Promise<SegmentRepositoryPort>) {
  let store: SegmentRepositoryPort;
  beforeEach(async () => {
    store = await repository();
  });

  const insert = async (stored: StoredSegment) => {
    expect(await store.insert(stored, changeOf(stored.segment, ChangeAction.CREATED))).toBe(true);
    return stored;
  };
  const replace = (stored: StoredSegment) =>
    store.replace(Number(stored.segment.version) - 1, stored, changeOf(stored.segment));
  const ids = async (criteria: Partial<SegmentListCriteria>) =>
    (await store.list({ ...everything, ...criteria })).map((s) => s.segment.id);

  describe('keeping segments', () => {
    it('finds what it stored, as stored, with its first change pending publication', async () => {
      const stored = await insert(
        storedSegment(
          { id: 'seg_a', name: 'Buyers', tags: ['vip'], hiddenFrom: { subjects: ['eve'] } },
          { references: ['seg_b'], destinations: [{ id: 'd1', name: 'Hook', autoSync: true }] },
        ),
      );
      const found = await store.findById('seg_a');
      expect(found).toMatchObject({
        segment: stored.segment,
        references: ['seg_b'],
        destinations: [{ id: 'd1', name: 'Hook', autoSync: true }],
        deleted: false,
      });
      expect(found?.publication?.state).toBe(PublicationState.PENDING);
      expect(await store.findById('seg_nothing')).toBeUndefined();
      const many = await store.findByIds(['seg_a', 'seg_nothing', 'seg_a']);
      expect([...many.keys()]).toEqual(['seg_a']);
    });

    it('keeps names unique per owner, case-insensitively, among live segments', async () => {
      await insert(storedSegment({ id: 'seg_a', name: 'Buyers' }));
      const same = storedSegment({ id: 'seg_b', name: ' BUYERS ' });
      expect(await store.insert(same, changeOf(same.segment))).toBe(false);
      await insert(storedSegment({ id: 'seg_c', name: 'Buyers', owner: 'bob' }));
      const renamed = nextVersion(await insert(storedSegment({ id: 'seg_d', name: 'Other' })), {
        name: 'buyers',
      });
      expect(await replace(renamed)).toBe('name-taken');
      expect((await store.findById('seg_d'))?.segment.name).toBe('Other');
    });

    it('frees a deleted segment’s name', async () => {
      const first = await insert(storedSegment({ id: 'seg_a', name: 'Buyers' }));
      expect(await replace(nextVersion(first, {}, { deleted: true }))).toBe('ok');
      await insert(storedSegment({ id: 'seg_b', name: 'Buyers' }));
      expect(await store.countOwned('ann')).toBe(1);
    });

    it('refuses a second segment with the same id', async () => {
      await insert(storedSegment({ id: 'seg_a', name: 'One' }));
      const again = storedSegment({ id: 'seg_a', name: 'Two' });
      expect(await store.insert(again, changeOf(again.segment))).toBe(false);
    });

    it('replaces a segment only at the version the change was made from', async () => {
      const v1 = await insert(storedSegment({ id: 'seg_a', name: 'Buyers' }));
      const v2 = nextVersion(v1, { description: 'second' });
      expect(await replace(v2)).toBe('ok');
      expect(await replace(nextVersion(v1, { description: 'stale' }))).toBe('conflict');
      expect(await replace(storedSegment({ id: 'seg_absent', version: 2n }))).toBe('conflict');
      expect((await store.findById('seg_a'))?.segment).toEqual(v2.segment);
    });

    it('counts an owner’s live segments and finds the live ones using a segment', async () => {
      await insert(storedSegment({ id: 'seg_base' }));
      await insert(storedSegment({ id: 'seg_user' }, { references: ['seg_base'] }));
      const gone = await insert(storedSegment({ id: 'seg_gone' }, { references: ['seg_base'] }));
      await insert(storedSegment({ id: 'seg_bob', owner: 'bob' }, { references: ['seg_base'] }));
      await replace(nextVersion(gone, {}, { deleted: true }));
      expect(await store.countOwned('ann')).toBe(2);
      const using = await store.findReferencing('seg_base');
      expect(using.map((s) => s.segment.id).sort()).toEqual(['seg_bob', 'seg_user']);
    });
  });

  describe('listing', () => {
    beforeEach(async () => {
      const at = (minutes: number) => timestampFromMs(T0 + minutes * 60_000);
      await insert(
        storedSegment({
          id: 'seg_1',
          name: 'Winter buyers',
          tags: ['retail', 'vip'],
          createdAt: at(1),
          updatedAt: at(30),
          memberCount: 30n,
        }),
      );
      await insert(
        storedSegment({
          id: 'seg_2',
          name: 'apparel list',
          kind: SegmentKind.STATIC_LIST,
          refresh: undefined,
          description: 'Hand-picked WINTER shoppers',
          visibility: Visibility.SHARED,
          createdAt: at(2),
          updatedAt: at(10),
          memberCount: 10n,
        }),
      );
      await insert(
        storedSegment({
          id: 'seg_3',
          name: 'Lapsed',
          owner: 'bob',
          status: SegmentStatus.INACTIVE,
          refresh: { mode: RefreshMode.SCHEDULED, cron: '0 * * * *' },
          visibility: Visibility.SHARED,
          tags: ['retail'],
          createdAt: at(3),
          updatedAt: at(20),
          memberCount: 20n,
        }),
      );
      await insert(
        storedSegment({
          id: 'seg_4',
          name: 'Hidden from sales',
          owner: 'bob',
          visibility: Visibility.SHARED,
          hiddenFrom: { groups: ['sales'], subjects: ['carl'] },
          createdAt: at(4),
          updatedAt: at(40),
          memberCount: 20n,
        }),
      );
      const gone = await insert(storedSegment({ id: 'seg_5', name: 'Deleted' }));
      await replace(nextVersion(gone, {}, { deleted: true }));
    });

    it('sorts by the last change unless told, and leaves deleted segments out', async () => {
      expect(await ids({})).toEqual(['seg_2', 'seg_3', 'seg_1', 'seg_4']);
      expect(await ids({ descending: true })).toEqual(['seg_4', 'seg_1', 'seg_3', 'seg_2']);
    });

    it.each([
      ['name', SegmentSort.NAME, false, ['seg_2', 'seg_4', 'seg_3', 'seg_1']],
      [
        'creation, newest first',
        SegmentSort.CREATED_AT,
        true,
        ['seg_4', 'seg_3', 'seg_2', 'seg_1'],
      ],
      ['member count', SegmentSort.MEMBER_COUNT, false, ['seg_2', 'seg_3', 'seg_4', 'seg_1']],
      [
        'member count, most first',
        SegmentSort.MEMBER_COUNT,
        true,
        ['seg_1', 'seg_3', 'seg_4', 'seg_2'],
      ],
    ])('sorts by %s, equal values by id', async (_by, sort, descending, expected) => {
      expect(await ids({ sort, descending })).toEqual(expected);
    });

    it('continues after a position, in either direction', async () => {
      for (const descending of [false, true]) {
        const all = await store.list({ ...everything, sort: SegmentSort.MEMBER_COUNT, descending });
        const rest = await ids({
          sort: SegmentSort.MEMBER_COUNT,
          descending,
          after: all[1]!.position,
          limit: 2,
        });
        expect(rest).toEqual(all.slice(2, 4).map((s) => s.segment.id));
      }
    });

    it('filters by kind, refresh mode, status, visibility, owner and every tag', async () => {
      expect(await ids({ kinds: [SegmentKind.STATIC_LIST] })).toEqual(['seg_2']);
      expect(await ids({ refreshModes: [RefreshMode.SCHEDULED] })).toEqual(['seg_3']);
      expect(await ids({ statuses: [SegmentStatus.INACTIVE] })).toEqual(['seg_3']);
      expect(await ids({ visibilities: [Visibility.PRIVATE] })).toEqual(['seg_1']);
      expect(await ids({ owners: ['bob'] })).toEqual(['seg_3', 'seg_4']);
      expect(await ids({ tags: ['retail', 'vip'] })).toEqual(['seg_1']);
      expect(await ids({ kinds: [SegmentKind.DYNAMIC], owners: ['ann'] })).toEqual(['seg_1']);
    });

    it('searches name, description and tags case-insensitively, taking the search literally', async () => {
      expect(await ids({ search: ' winter ' })).toEqual(['seg_2', 'seg_1']);
      expect(await ids({ search: 'VIP' })).toEqual(['seg_1']);
      expect(await ids({ search: 'w.nter' })).toEqual([]);
    });

    it('shows a viewer their own segments and the shared ones not hidden from them', async () => {
      expect(await ids({ viewer: { subject: 'ann', groups: [] } })).toEqual([
        'seg_2',
        'seg_3',
        'seg_1',
        'seg_4',
      ]);
      expect(await ids({ viewer: { subject: 'eve', groups: ['sales'] } })).toEqual([
        'seg_2',
        'seg_3',
      ]);
      expect(await ids({ viewer: { subject: 'carl', groups: [] } })).toEqual(['seg_2', 'seg_3']);
      expect(await ids({ viewer: { subject: 'bob', groups: ['sales'] } })).toEqual([
        'seg_2',
        'seg_3',
        'seg_4',
      ]);
    });

    it('answers at most the limit, each with its position and publication', async () => {
      const page = await store.list({ ...everything, sort: SegmentSort.NAME, limit: 1 });
      expect(page).toHaveLength(1);
      expect(page[0]?.position).toEqual({ value: 'apparel list', id: 'seg_2' });
      expect(page[0]?.publication.state).toBe(PublicationState.PENDING);
    });
  });

  describe('membership’s figures', () => {
    const ready = (version: number, memberCount: number) => ({
      version,
      state: SegmentState.READY,
      stateDetail: '',
      memberCount,
      lastRefreshedAtMs: T0 + 60_000,
    });

    it('shows them in the segment it reads and lists, and sorts by their member count', async () => {
      await insert(storedSegment({ id: 'seg_a', state: SegmentState.COMPUTING }));
      await insert(storedSegment({ id: 'seg_b', state: SegmentState.COMPUTING }));
      // several in one call, an unknown id among them
      await store.saveEvaluations(
        new Map([
          ['seg_a', ready(1, 500)],
          ['seg_unknown', ready(1, 7)],
          ['seg_b', ready(1, 20)],
        ]),
      );
      await store.saveEvaluations(new Map());
      expect((await store.findById('seg_a'))?.segment).toMatchObject({
        state: SegmentState.READY,
        memberCount: 500n,
        lastRefreshedAt: timestampFromMs(T0 + 60_000),
      });
      const listed = await store.list({ ...everything, sort: SegmentSort.MEMBER_COUNT });
      expect(listed.map((s) => [s.segment.id, s.segment.memberCount])).toEqual([
        ['seg_b', 20n],
        ['seg_a', 500n],
      ]);
      expect(await store.findById('seg_unknown')).toBeUndefined();
    });

    it('keeps them when the segment is edited, and the new rule COMPUTING until reported on', async () => {
      const v1 = await insert(storedSegment({ id: 'seg_a', state: SegmentState.COMPUTING }));
      await store.saveEvaluations(new Map([['seg_a', ready(1, 500)]]));
      const v2 = nextVersion(v1, { state: SegmentState.COMPUTING });
      expect(await replace(v2)).toBe('ok');
      expect((await store.findById('seg_a'))?.segment).toMatchObject({
        state: SegmentState.COMPUTING,
        memberCount: 500n,
      });
      await store.saveEvaluations(new Map([['seg_a', ready(2, 40)]]));
      expect((await store.findById('seg_a'))?.segment).toMatchObject({
        state: SegmentState.READY,
        memberCount: 40n,
      });
      const byCount = await store.list({ ...everything, sort: SegmentSort.MEMBER_COUNT });
      expect(byCount[0]?.position.value).toBe(40);
    });

    it("shows a static list's member count, keeps the newest change's and keeps it through edits", async () => {
      const v1 = await insert(storedSegment({ id: 'lst_a', kind: SegmentKind.STATIC_LIST }));
      await insert(storedSegment({ id: 'lst_b', kind: SegmentKind.STATIC_LIST }));
      await store.saveListMemberCount('lst_a', 7, 3);
      await store.saveListMemberCount('lst_a', 5, 2);
      await store.saveListMemberCount('lst_b', 2, 1);
      await store.saveListMemberCount('lst_unknown', 1, 1);
      expect(await replace(nextVersion(v1, { name: 'renamed' }))).toBe('ok');
      const listed = await store.list({ ...everything, sort: SegmentSort.MEMBER_COUNT });
      expect(listed.map((s) => [s.segment.id, s.segment.memberCount])).toEqual([
        ['lst_b', 2n],
        ['lst_a', 7n],
      ]);
      expect((await store.findById('lst_a'))?.segment.memberCount).toBe(7n);
      expect(await store.findById('lst_unknown')).toBeUndefined();
    });

    it('pages live static lists by id with the change their kept count is of', async () => {
      for (const id of ['lst_c', 'lst_a', 'lst_d', 'lst_b'])
        await insert(storedSegment({ id, kind: SegmentKind.STATIC_LIST }));
      await insert(storedSegment({ id: 'lst_0' }));
      await insert(
        storedSegment({ id: 'lst_e', kind: SegmentKind.STATIC_LIST }, { deleted: true }),
      );
      await store.saveListMemberCount('lst_b', 4, 9);
      expect(await store.listCountSeqs('', 2)).toEqual([
        { id: 'lst_a', seq: undefined },
        { id: 'lst_b', seq: 9 },
      ]);
      expect(await store.listCountSeqs('lst_b', 2)).toEqual([
        { id: 'lst_c', seq: undefined },
        { id: 'lst_d', seq: undefined },
      ]);
      expect(await store.listCountSeqs('lst_d', 2)).toEqual([]);
    });

    it('leaves a draft a draft', async () => {
      await insert(storedSegment({ id: 'seg_a', state: SegmentState.DRAFT }));
      await store.saveEvaluations(new Map([['seg_a', ready(1, 3)]]));
      expect((await store.findById('seg_a'))?.segment.state).toBe(SegmentState.DRAFT);
    });
  });

  describe('history', () => {
    it('keeps each version, newest first, up to the current one', async () => {
      const v1 = storedSegment({ id: 'seg_a', name: 'v1' });
      await insert(v1);
      let current = v1;
      for (const name of ['v2', 'v3', 'v4']) {
        current = nextVersion(current, { name });
        await store.saveVersion(changeOf(current.segment));
      }
      await store.saveVersion(changeOf(v1.segment, ChangeAction.CREATED));
      await store.saveVersion(changeOf(v1.segment, ChangeAction.CREATED));
      const versions = async (upTo: number, before: number, limit: number) =>
        (await store.listChanges('seg_a', upTo, before, limit)).map((c) => c.version);
      expect(await versions(4, Number.MAX_SAFE_INTEGER, 10)).toEqual([4n, 3n, 2n, 1n]);
      expect(await versions(3, Number.MAX_SAFE_INTEGER, 10)).toEqual([3n, 2n, 1n]);
      expect(await versions(4, 3, 1)).toEqual([2n]);
      expect((await store.findVersion('seg_a', 3))?.snapshot.name).toBe('v3');
      expect((await store.findVersion('seg_a', 1))?.change.action).toBe(ChangeAction.CREATED);
      expect(await store.findVersion('seg_a', 9)).toBeUndefined();
    });

    it('purges a deleted segment with its history, and nothing of a live one', async () => {
      const live = await insert(storedSegment({ id: 'seg_live' }));
      await store.saveVersion(changeOf(live.segment));
      await store.purge('seg_live');
      expect(await store.findById('seg_live')).toBeDefined();
      const gone = nextVersion(
        await insert(storedSegment({ id: 'seg_gone' })),
        {},
        { deleted: true },
      );
      await replace(gone);
      await store.saveVersion(changeOf(gone.segment));
      await store.purge('seg_gone');
      expect(await store.findById('seg_gone')).toBeUndefined();
      expect(await store.listChanges('seg_gone', 9, 10, 10)).toEqual([]);
    });
  });

  describe('the outbox', () => {
    it('hands out the segments with changes pending, each with its changes in order', async () => {
      const v1 = await insert(storedSegment({ id: 'seg_a' }));
      const v2 = nextVersion(v1, { name: 'second' });
      await replace(v2);
      await insert(storedSegment({ id: 'seg_b' }));
      const pending = await store.withPendingChanges({ maxSegments: 10, maxBytes: 1 << 20 });
      expect(pending.map((p) => [p.id, p.version, p.pending.map((c) => c.version)])).toEqual([
        ['seg_a', 2, [1, 2]],
        ['seg_b', 1, [1]],
      ]);
      expect(pending[0]?.current).toEqual(v2.segment);
      expect(pending[0]?.pending[1]?.snapshot).toEqual(v2.segment);
    });

    it('bounds a batch by segments and by bytes, but always hands out one', async () => {
      for (const id of ['seg_a', 'seg_b', 'seg_c']) await insert(storedSegment({ id }));
      expect(await store.withPendingChanges({ maxSegments: 2, maxBytes: 1 << 20 })).toHaveLength(2);
      expect(await store.withPendingChanges({ maxSegments: 10, maxBytes: 1 })).toHaveLength(1);
    });

    it('clears published changes, and a failure, up to a version', async () => {
      const v1 = await insert(storedSegment({ id: 'seg_a' }));
      await replace(nextVersion(v1));
      await store.clearPending('seg_a', 1);
      expect((await store.findById('seg_a'))?.publication?.state).toBe(PublicationState.PENDING);
      await store.clearPending('seg_a', 2);
      expect((await store.findById('seg_a'))?.publication?.state).toBe(PublicationState.PUBLISHED);
      expect(await store.withPendingChanges({ maxSegments: 10, maxBytes: 1 << 20 })).toEqual([]);
    });

    it('marks a refused version failed until a later change is published', async () => {
      const v1 = await insert(storedSegment({ id: 'seg_a' }));
      await store.markPublishFailed('seg_a', { version: 1, error: 'too large', atMs: T0 });
      const failed = (await store.findById('seg_a'))?.publication;
      expect(failed).toMatchObject({
        state: PublicationState.FAILED,
        error: 'too large',
        failedVersion: 1n,
        failedAt: timestampFromMs(T0),
      });
      const v2 = nextVersion(v1);
      await replace(v2);
      expect((await store.findById('seg_a'))?.publication?.state).toBe(PublicationState.PENDING);
      await store.clearPending('seg_a', 2);
      expect((await store.findById('seg_a'))?.publication?.state).toBe(PublicationState.PUBLISHED);
    });
  });
}
