import { type MessageInitShape, clone, create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  Audience,
  ChangeAction,
  ListSegmentsRequestSchema,
  PublicationState,
  SegmentDraftSchema,
  SegmentKind,
  SegmentSchema,
  SegmentState,
  SegmentStatus,
  UsageKind,
  Visibility,
} from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import { FIXED_NOW } from '@shoal/testing';
import {
  type Draft,
  TEST_LIMITS,
  ann,
  bob,
  eve,
  newSegmentsTestService,
  refusal,
  tagged,
  using,
} from '../../test/segments-test-service';
import type { DraftField } from './segment-definitions';
import { SegmentsService } from './segments.service';

const setup = () => newSegmentsTestService(SegmentsService);

type ListSegmentsRequestInit = MessageInitShape<typeof ListSegmentsRequestSchema>;

describe('segments: creating', () => {
  it('creates an active segment owned by the caller at version 1, computing and pending publication', async () => {
    const t = await setup();
    const segment = await t.make(ann, { name: ' Buyers ', tags: ['vip'] });
    expect(segment).toMatchObject({
      name: 'Buyers',
      kind: SegmentKind.DYNAMIC,
      owner: 'ann',
      createdBy: 'ann',
      version: 1n,
      status: SegmentStatus.ACTIVE,
      state: SegmentState.COMPUTING,
      visibility: Visibility.PRIVATE,
      audience: Audience.PROFILES,
      publication: { state: PublicationState.PENDING },
    });
    expect(segment.id).toMatch(/^seg_[0-9a-z]{20}$/);
    expect(timestampDate(segment.createdAt!).toISOString()).toBe(new Date(FIXED_NOW).toISOString());
    expect(t.changes.count).toBe(1);
    expect((await t.repository.findVersion(segment.id, 1))?.change.action).toBe(
      ChangeAction.CREATED,
    );
  });

  it('makes a static list ready at once, and a draft inactive until activated', async () => {
    const t = await setup();
    const list = await t.make(ann, { name: 'List' }, SegmentKind.STATIC_LIST);
    expect([list.state, list.status, list.rule]).toEqual([
      SegmentState.READY,
      SegmentStatus.ACTIVE,
      undefined,
    ]);
    const draft = await t.make(ann, { name: 'Later' }, SegmentKind.DYNAMIC, true);
    expect([draft.state, draft.status]).toEqual([SegmentState.DRAFT, SegmentStatus.INACTIVE]);
    const active = await t.segments.activate({ id: draft.id, expectedVersion: 1n, principal: ann });
    expect([active.state, active.status, active.version]).toEqual([
      SegmentState.COMPUTING,
      SegmentStatus.ACTIVE,
      2n,
    ]);
  });

  it('refuses a segment beyond SEGMENTS_PER_OWNER_MAX, naming the limit', async () => {
    const t = await newSegmentsTestService(SegmentsService, {
      limits: { ...TEST_LIMITS, segmentsPerOwner: 2 },
    });
    await t.make(ann, { name: 'One' });
    await t.make(ann, { name: 'Two' }, SegmentKind.STATIC_LIST);
    const refused = await refusal(t.make(ann, { name: 'Three' }));
    expect([refused.kind, refused.reason]).toEqual([ErrorKind.ResourceExhausted, 'LIMIT_EXCEEDED']);
    expect(refused.message).toBe(
      'ann already has 2 segments: the limit SEGMENTS_PER_OWNER_MAX is 2',
    );
    await t.make(bob, { name: 'Three' });
  });

  it('keeps names unique per owner, case-insensitively', async () => {
    const t = await setup();
    await t.make(ann, { name: 'Buyers' });
    const taken = await refusal(t.make(ann, { name: 'BUYERS' }));
    expect([taken.kind, taken.reason]).toEqual([ErrorKind.AlreadyExists, 'SEGMENT_NAME_TAKEN']);
    await t.make(bob, { name: 'buyers' });
  });

  it('refuses invalid input with every field path at once, as INVALID_ARGUMENT, writing nothing', async () => {
    const t = await setup();
    const refused = await refusal(
      t.make(ann, { name: '', tags: ['a', 'a'], rule: tagged('') }, SegmentKind.DYNAMIC),
    );
    expect([refused.kind, refused.reason]).toEqual([ErrorKind.InvalidArgument, 'INVALID_ARGUMENT']);
    expect(refused.violations.map((v) => v.field)).toEqual([
      'segment.name',
      'segment.tags',
      'segment.rule.condition.hasTag',
    ]);
    expect(await t.repository.countOwned('ann')).toBe(0);
    expect(t.changes.count).toBe(0);
  });
});

describe('segments: who sees a segment', () => {
  it('answers NOT_FOUND for a private segment of someone else, as for one that never existed', async () => {
    const t = await setup();
    const mine = await t.make(ann, { name: 'Mine' });
    const hidden = await refusal(t.segments.get(mine.id, eve));
    const absent = await refusal(t.segments.get('seg_neverexisted00000000', eve));
    expect([hidden.kind, hidden.reason]).toEqual([ErrorKind.NotFound, 'SEGMENT_NOT_FOUND']);
    expect([absent.kind, absent.message.replace('seg_neverexisted00000000', '<id>')]).toEqual([
      hidden.kind,
      hidden.message.replace(mine.id, '<id>'),
    ]);
  });

  it('shows a shared segment to everyone but the users and groups it is hidden from', async () => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Shared',
      visibility: Visibility.SHARED,
      hiddenFrom: { subjects: ['bob'], groups: ['sales'] },
    });
    expect((await t.segments.get(shared.id, ann)).name).toBe('Shared');
    expect((await refusal(t.segments.get(shared.id, bob))).kind).toBe(ErrorKind.NotFound);
    expect((await refusal(t.segments.get(shared.id, eve))).kind).toBe(ErrorKind.NotFound);
    const carl = { subject: 'carl', groups: ['marketing'], kind: 'user' as const };
    expect((await t.segments.get(shared.id, carl)).name).toBe('Shared');
  });

  it('lists only what the caller may see, each with where its publication stands', async () => {
    const t = await setup();
    await t.make(ann, { name: 'Private' });
    await t.make(ann, { name: 'Shared', visibility: Visibility.SHARED });
    const listed = await t.segments.list({
      request: create(ListSegmentsRequestSchema, {}),
      after: undefined,
      limit: 10,
      principal: eve,
    });
    expect(listed.map((l) => [l.segment.name, l.segment.publication?.state])).toEqual([
      ['Shared', PublicationState.PENDING],
    ]);
  });
});

describe('segments: list queries', () => {
  const list = (t: Awaited<ReturnType<typeof setup>>, request: ListSegmentsRequestInit) =>
    t.segments.list({
      request: create(ListSegmentsRequestSchema, request),
      after: undefined,
      limit: 10,
      principal: ann,
    });

  it('refuses a query no segment could match or the store should not run, naming each field', async () => {
    const t = await setup();
    const refused = await refusal(
      list(t, {
        search: 'x'.repeat(201),
        tags: Array.from({ length: 21 }, (_, i) => `tag ${i}`),
        owners: ['ann', 'o'.repeat(257)],
        kinds: [SegmentKind.DYNAMIC, 9_999 as SegmentKind],
        visibilities: [-1 as Visibility],
      }),
    );
    expect(refused.kind).toBe(ErrorKind.InvalidArgument);
    expect(refused.violations.map((v) => v.field)).toEqual([
      'search',
      'tags',
      'owners[1]',
      'kinds[1]',
      'visibilities[0]',
    ]);
    expect(refused.message).toContain('search: is 201 characters; at most 200');
  });

  it('refuses more owners than a segment can name people, and tags longer than a tag', async () => {
    const t = await setup();
    const refused = await refusal(
      list(t, {
        owners: Array.from({ length: 101 }, (_, i) => `user ${i}`),
        tags: ['t'.repeat(65)],
      }),
    );
    expect(refused.violations.map((v) => v.field)).toEqual(['tags[0]', 'owners']);
  });

  it('answers a query with repeated values as the query without them', async () => {
    const t = await setup();
    await t.make(ann, { name: 'Buyers', tags: ['vip'] });
    const listed = await list(t, {
      search: 'buy',
      tags: ['vip', 'vip'],
      kinds: Array.from({ length: 1_000 }, () => SegmentKind.DYNAMIC),
      owners: ['ann', 'ann'],
    });
    expect(listed.map((l) => l.segment.name)).toEqual(['Buyers']);
  });
});

describe('segments: who changes a shared segment', () => {
  it('lets its owner and named editors change it, and no one else who sees it', async () => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    expect(
      (await refusal(t.update(eve, shared.id, 1n, { description: 'eve' }, ['description']))).reason,
    ).toBe('SEGMENT_EDITORS_ONLY');
    const { segment } = await t.update(bob, shared.id, 1n, { description: 'bob' }, ['description']);
    expect(segment).toMatchObject({ description: 'bob', updatedBy: 'bob', version: 2n });
  });

  it('lets a group named as editors change it', async () => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { groups: ['sales'] },
    });
    const { segment } = await t.update(eve, shared.id, 1n, { description: 'eve' }, ['description']);
    expect(segment.updatedBy).toBe('eve');
  });

  it.each<[string, Draft, DraftField]>([
    ['its name', { name: 'Mine now' }, 'name'],
    ['its editors', { editors: { subjects: ['bob', 'eve'] } }, 'editors'],
    ['who it is hidden from', { hiddenFrom: { subjects: ['ann'] } }, 'hiddenFrom'],
    ['its visibility', { visibility: Visibility.PRIVATE }, 'visibility'],
  ])('keeps %s for its owner to change', async (_what, draft, field) => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    const denied = await refusal(t.update(bob, shared.id, 1n, draft, [field]));
    expect({ kind: denied.kind, reason: denied.reason }).toEqual({
      kind: ErrorKind.PermissionDenied,
      reason: 'SEGMENT_OWNER_ONLY',
    });
  });

  it('answers an editor’s rename alike whether or not the owner has a segment of that name', async () => {
    const t = await setup();
    await t.make(ann, { name: 'Secret plans' }, SegmentKind.STATIC_LIST);
    const shared = await t.make(
      ann,
      { name: 'Open plans', visibility: Visibility.SHARED, editors: { subjects: ['bob'] } },
      SegmentKind.STATIC_LIST,
    );
    const rename = (name: string) =>
      refusal(t.segments.rename({ id: shared.id, expectedVersion: 1n, name, principal: bob }));
    const [taken, free] = [await rename('secret plans'), await rename('Anything else')];
    expect(taken.kind).toBe(ErrorKind.PermissionDenied);
    expect([taken.kind, taken.reason, taken.message]).toEqual([
      free.kind,
      free.reason,
      free.message,
    ]);
  });
});

describe('segments: editing', () => {
  it('changes only the fields named, in a new version by whom and when', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers', description: 'old', tags: ['a'] });
    t.clock.advance(60_000);
    const { segment } = await t.update(ann, made.id, 1n, { description: 'new', tags: ['b'] }, [
      'description',
    ]);
    expect(segment).toMatchObject({
      name: 'Buyers',
      description: 'new',
      tags: ['a'],
      rule: made.rule,
      version: 2n,
      updatedBy: 'ann',
    });
    expect(timestampDate(segment.updatedAt!).getTime() - new Date(FIXED_NOW).getTime()).toBe(
      60_000,
    );
    expect(t.changes.count).toBe(2);
  });

  it('refuses a change made from an older version, telling the current one', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers' });
    await t.update(ann, made.id, 1n, { description: 'first' }, ['description']);
    const stale = await refusal(
      t.update(ann, made.id, 1n, { description: 'late' }, ['description']),
    );
    expect([stale.kind, stale.reason, stale.message]).toEqual([
      ErrorKind.Aborted,
      'SEGMENT_VERSION_CONFLICT',
      `segment ${made.id} is at version 2, not 1: read it again and retry`,
    ]);
  });

  it('computes a segment again when its rule changes, not when only its description does', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers' });
    // computed meanwhile (told by the membership service)
    const ready = clone(SegmentSchema, made);
    ready.state = SegmentState.READY;
    t.repository.seed({ segment: ready, references: [], destinations: [], deleted: false });
    const described = await t.update(ann, made.id, 1n, { description: 'd' }, ['description']);
    expect(described.segment.state).toBe(SegmentState.READY);
    const ruled = await t.update(ann, made.id, 2n, { rule: tagged('y') }, ['rule']);
    expect(ruled.segment.state).toBe(SegmentState.COMPUTING);
  });

  it('keeps the value trait a segment names, and changes it when an editor does', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Valued', valueTrait: 'lifetime_value' });
    expect(made.valueTrait).toBe('lifetime_value');
    const { segment } = await t.update(ann, made.id, 1n, { valueTrait: 'orders.total' }, [
      'valueTrait',
    ]);
    expect([segment.valueTrait, segment.description]).toEqual(['orders.total', '']);
    const listed = await t.sut.get(made.id, ann);
    expect(listed.valueTrait).toBe('orders.total');
  });

  it('refuses a value trait that is no trait path, naming the field', async () => {
    const t = await setup();
    const refused = await refusal(t.make(ann, { name: 'Valued', valueTrait: 'a..b' }));
    expect([refused.kind, refused.violations?.map((v) => v.field)]).toEqual([
      ErrorKind.InvalidArgument,
      ['segment.valueTrait'],
    ]);
  });

  it('refuses changing the audience once created', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers' });
    const refused = await refusal(
      t.update(ann, made.id, 1n, { audience: Audience.ACCOUNTS }, ['audience']),
    );
    expect(refused.violations).toEqual([
      { field: 'segment.audience', description: 'cannot change once created' },
    ]);
  });

  it('takes an unspecified audience for profiles, as on creation, so a full replace may leave it out', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers' });
    const everyField = SegmentDraftSchema.fields.map((f) => f.localName as DraftField);
    const replaced = await t.update(
      ann,
      made.id,
      1n,
      { name: 'Buyers', description: 'all', rule: tagged('x') },
      everyField,
    );
    expect([replaced.segment.audience, replaced.segment.description]).toEqual([
      Audience.PROFILES,
      'all',
    ]);
    const accounts = await t.make(ann, { name: 'Accounts', audience: Audience.ACCOUNTS });
    const refused = await refusal(
      t.update(ann, accounts.id, 1n, { audience: Audience.UNSPECIFIED }, ['audience']),
    );
    expect(refused.violations).toEqual([
      { field: 'segment.audience', description: 'cannot change once created' },
    ]);
  });

  it('makes no version for a change that changes nothing: a rename to the same name, an edit setting what is there', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers', description: 'd' });
    const renamed = await t.segments.rename({
      id: made.id,
      expectedVersion: 1n,
      name: 'Buyers',
      principal: ann,
    });
    const edited = await t.update(ann, made.id, 1n, { description: 'd', rule: made.rule }, [
      'description',
      'rule',
    ]);
    expect([renamed.version, edited.segment.version]).toEqual([1n, 1n]);
    expect(t.changes.count).toBe(1);
    const stale = await refusal(
      t.segments.rename({ id: made.id, expectedVersion: 0n, name: 'Buyers', principal: ann }),
    );
    expect(stale.reason).toBe('SEGMENT_VERSION_CONFLICT');
    const changed = await t.segments.rename({
      id: made.id,
      expectedVersion: 1n,
      name: 'Big buyers',
      principal: ann,
    });
    expect([changed.name, changed.version, t.changes.count]).toEqual(['Big buyers', 2n, 2]);
  });

  it('answers an activation of an active segment with the segment as it is', async () => {
    const t = await setup();
    const made = await t.make(ann, { name: 'Buyers' });
    const again = await t.segments.activate({ id: made.id, expectedVersion: 1n, principal: ann });
    expect([again.version, again.publication?.state]).toEqual([1n, PublicationState.PENDING]);
    const off = await t.segments.deactivate({ id: made.id, expectedVersion: 1n, principal: ann });
    expect([off.status, off.version]).toEqual([SegmentStatus.INACTIVE, 2n]);
  });
});

describe('segments: duplicating', () => {
  it('makes a private copy for the caller, named "(copy)" unless named', async () => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      hiddenFrom: { subjects: ['carl'] },
      editors: { subjects: ['bob'] },
      description: 'd',
    });
    const copy = await t.segments.duplicate({ id: shared.id, name: ' ', principal: eve });
    expect(copy).toMatchObject({
      name: 'Team (copy)',
      owner: 'eve',
      description: 'd',
      rule: shared.rule,
      visibility: Visibility.PRIVATE,
      version: 1n,
    });
    expect([copy.hiddenFrom, copy.editors]).toEqual([undefined, undefined]);
    const named = await t.segments.duplicate({ id: shared.id, name: 'Mine', principal: eve });
    expect(named.name).toBe('Mine');
  });

  it('keeps a draft a draft, and copies nothing the caller cannot see', async () => {
    const t = await setup();
    const draft = await t.make(ann, { name: 'Later' }, SegmentKind.DYNAMIC, true);
    const copy = await t.segments.duplicate({ id: draft.id, name: '', principal: ann });
    expect(copy.state).toBe(SegmentState.DRAFT);
    const hidden = await refusal(t.segments.duplicate({ id: draft.id, name: '', principal: eve }));
    expect(hidden.kind).toBe(ErrorKind.NotFound);
  });

  it('copies the contents a kind of segment registered, into the copy', async () => {
    const t = await setup();
    const copies: unknown[] = [];
    t.segments.registerContents(SegmentKind.STATIC_LIST, {
      copy: async (args) => {
        copies.push(args);
      },
    });
    const list = await t.make(ann, { name: 'List' }, SegmentKind.STATIC_LIST);
    const copy = await t.segments.duplicate({ id: list.id, name: '', principal: ann });
    await t.segments.duplicate({
      id: (await t.make(ann, { name: 'Dyn' })).id,
      name: '',
      principal: ann,
    });
    expect(copies).toEqual([{ fromId: list.id, toId: copy.id, principal: ann }]);
  });
});

describe('segments: deleting and purging', () => {
  it('refuses deleting a segment in use unless forced, naming what uses it', async () => {
    const t = await setup();
    const base = await t.make(ann, { name: 'Base' });
    const user = await t.make(ann, { name: 'User', rule: using('inSegment', base.id) });
    const refused = await refusal(
      t.segments.delete({ id: base.id, expectedVersion: 1n, force: false, principal: ann }),
    );
    expect([refused.kind, refused.reason, refused.message]).toEqual([
      ErrorKind.FailedPrecondition,
      'SEGMENT_IN_USE',
      `segment ${base.id} is used by segment "User" (${user.id}); delete with force to delete anyway`,
    ]);
    const usages = await t.segments.delete({
      id: base.id,
      expectedVersion: 1n,
      force: true,
      principal: ann,
    });
    expect(usages.map((u) => [u.kind, u.id])).toEqual([[UsageKind.SEGMENT, user.id]]);
    expect((await refusal(t.segments.get(base.id, ann))).kind).toBe(ErrorKind.NotFound);
  });

  it('lets only the owner delete and purge, and purges only what is deleted', async () => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    const del = (principal: typeof ann) =>
      t.segments.delete({ id: shared.id, expectedVersion: 1n, force: false, principal });
    expect((await refusal(del(bob))).reason).toBe('SEGMENT_OWNER_ONLY');
    expect((await refusal(t.segments.purge({ id: shared.id, principal: ann }))).reason).toBe(
      'SEGMENT_NOT_DELETED',
    );
    await del(ann);
    expect((await refusal(t.segments.purge({ id: shared.id, principal: bob }))).reason).toBe(
      'SEGMENT_OWNER_ONLY',
    );
    await t.segments.purge({ id: shared.id, principal: ann });
    expect(await t.repository.findById(shared.id)).toBeUndefined();
  });

  it('frees the name of a deleted segment', async () => {
    const t = await setup();
    const first = await t.make(ann, { name: 'Buyers' });
    await t.segments.delete({ id: first.id, expectedVersion: 1n, force: false, principal: ann });
    expect((await t.make(ann, { name: 'Buyers' })).name).toBe('Buyers');
  });
});
