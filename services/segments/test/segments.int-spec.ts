import type { MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  ChangeAction,
  PublicationState,
  RefreshMode,
  SegmentDraftSchema,
  SegmentKind,
  SegmentSort,
  SegmentState,
  SegmentStatus,
  UsageKind,
  Visibility,
  segmentDefinitionsTopic,
} from '@shoal/contracts';
import type { Env } from '@shoal/platform';
import { type TestScope, eventually } from '@shoal/testing';
import {
  holdDefinitionsRelay,
  productExample,
  publishedDefinitions,
  refusal,
  rule,
} from './segment-client';
import { segmentsForTests } from './segments-for-tests';

type SegmentDraftInit = MessageInitShape<typeof SegmentDraftSchema>;

/** Waits until every one of these segments has a definition on the topic. */
const published = (scope: TestScope, ids: readonly string[]) =>
  eventually(async () => {
    const keys = new Set((await publishedDefinitions(scope)).map((r) => r.key));
    expect(ids.filter((id) => !keys.has(id))).toEqual([]);
  }, 30_000);

describe('SegmentService: definitions, versions, visibility', () => {
  const { scope, c } = segmentsForTests();

  it('creates a dynamic segment owned by the caller and publishes its definition', async () => {
    const { segment } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Lapsed big spenders',
        description: 'product example 1',
        tags: ['retention'],
        rule: rule(productExample),
      },
    });
    expect(segment).toMatchObject({
      name: 'Lapsed big spenders',
      owner: 'ann',
      version: 1n,
      status: SegmentStatus.ACTIVE,
      state: SegmentState.COMPUTING,
      visibility: Visibility.PRIVATE,
      refresh: { mode: RefreshMode.REALTIME },
      createdBy: 'ann',
    });
    expect(segment?.id).toMatch(/^seg_[0-9a-z]{20}$/);
    const published = await eventually(async () => {
      const found = (await publishedDefinitions(scope)).find((r) => r.key === segment?.id);
      expect(found).toBeDefined();
      return found;
    });
    expect(published?.segment).toMatchObject({
      id: segment?.id,
      version: 1n,
      name: 'Lapsed big spenders',
    });
  });

  it('keeps, publishes and edits the value trait a segment names, and refuses one that is no trait path', async () => {
    const { segment } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name: 'Valued', rule: rule(productExample), valueTrait: 'lifetime_value' },
    });
    const id = segment?.id as string;
    await eventually(async () => {
      const found = (await publishedDefinitions(scope)).find((r) => r.key === id);
      expect(found?.segment?.valueTrait).toBe('lifetime_value');
    });
    const { segment: edited } = await c.ann.updateSegment({
      id,
      expectedVersion: 1n,
      segment: { valueTrait: 'orders.total' },
      updateMask: { paths: ['value_trait'] },
    });
    expect(edited?.valueTrait).toBe('orders.total');
    expect((await c.ann.getSegment({ id })).segment?.valueTrait).toBe('orders.total');
    const bad = await refusal(
      c.ann.updateSegment({
        id,
        expectedVersion: 2n,
        segment: { valueTrait: 'orders..total' },
        updateMask: { paths: ['value_trait'] },
      }),
    );
    expect([bad.code, bad.violations.map((v) => v.field)]).toEqual([
      status.INVALID_ARGUMENT,
      ['segment.valueTrait'],
    ]);
  });

  it('keeps names unique per owner, case-insensitively', async () => {
    await c.ann.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: 'VIPs' } });
    const taken = await refusal(
      c.ann.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: '  vips ' } }),
    );
    expect(taken.code).toBe(status.ALREADY_EXISTS);
    expect(taken.reason).toBe('SEGMENT_NAME_TAKEN');
    await expect(
      c.bob.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: 'VIPs' } }),
    ).resolves.toBeDefined();
  });

  it('refuses invalid input with every field path at once, writing nothing', async () => {
    const bad = await refusal(
      c.ann.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: '',
          tags: ['ok', ''],
          refresh: { mode: RefreshMode.SCHEDULED, cron: 'every day' },
          rule: rule({
            condition: { all: { conditions: [{ event: { name: '', count: { gt: 1 } } }] } },
          }),
        },
      }),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    const fields = bad.violations.map((v) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'segment.name',
        'segment.tags[1]',
        'segment.refresh.cron',
        'segment.rule.condition.all.conditions[0].event.name',
      ]),
    );
    const { segments } = await c.ann.listSegments({ search: 'every day' });
    expect(segments).toHaveLength(0);
  });

  it('versions every change, keeps earlier versions and records who changed what', async () => {
    const { segment: created } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Readers',
        rule: rule({ condition: { event: { name: 'Content Viewed', count: { gte: 3 } } } }),
      },
    });
    const id = created!.id;
    const stale = await refusal(
      c.ann.updateSegment({
        id,
        expectedVersion: 7n,
        segment: { description: 'x' },
        updateMask: { paths: ['description'] },
      }),
    );
    expect(stale.code).toBe(status.ABORTED);

    const { segment: v2 } = await c.ann.updateSegment({
      id,
      expectedVersion: 1n,
      segment: {
        rule: rule({ condition: { event: { name: 'Content Viewed', count: { gte: 5 } } } }),
        description: 'heavy readers',
      },
      updateMask: { paths: ['rule', 'description'] },
    });
    expect(v2).toMatchObject({ version: 2n, description: 'heavy readers', name: 'Readers' });
    const { segment: v3 } = await c.ann.renameSegment({
      id,
      expectedVersion: 2n,
      name: 'Heavy readers',
    });
    expect(v3?.version).toBe(3n);

    const { segment: first } = await c.ann.getSegmentVersion({ id, version: 1n });
    expect(first).toMatchObject({ version: 1n, name: 'Readers', description: '' });

    const { changes } = await c.ann.getSegmentHistory({ id });
    expect(changes.map((ch) => [ch.version, ch.action])).toEqual([
      [3n, ChangeAction.RENAMED],
      [2n, ChangeAction.UPDATED],
      [1n, ChangeAction.CREATED],
    ]);
    expect(changes[0]?.changedBy).toBe('ann');
    expect(changes[0]?.fields.map((f) => f.field)).toEqual(['name']);
    expect(changes[1]?.ruleDiff).toEqual([
      expect.objectContaining({
        path: 'condition.event.count.gte',
        before: expect.anything(),
        after: expect.anything(),
      }),
    ]);
    expect(changes[1]?.fields.map((f) => f.field)).toEqual(['description']);

    const { segment: reverted } = await c.ann.revertSegment({
      id,
      expectedVersion: 3n,
      toVersion: 1n,
    });
    expect(reverted).toMatchObject({ version: 4n, name: 'Readers', description: '' });
    const { changes: latest } = await c.ann.getSegmentHistory({ id, page: { pageSize: 1 } });
    expect(latest[0]).toMatchObject({ action: ChangeAction.REVERTED, revertedTo: 1n });
  });

  it('shows private segments only to their owner and hides shared ones from a deny list', async () => {
    const { segment: mine } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Ann only' },
    });
    expect((await refusal(c.bob.getSegment({ id: mine!.id }))).code).toBe(status.NOT_FOUND);
    const { segment: shared } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: {
        name: 'Team list',
        visibility: Visibility.SHARED,
        hiddenFrom: { groups: ['sales'] },
      },
    });
    await expect(c.bob.getSegment({ id: shared!.id })).resolves.toMatchObject({
      segment: { name: 'Team list' },
    });
    expect((await refusal(c.eve.getSegment({ id: shared!.id }))).code).toBe(status.NOT_FOUND);
    const eveSees = (await c.eve.listSegments({})).segments.map((s) => s.name);
    expect(eveSees).not.toContain('Team list');
    expect(eveSees).not.toContain('Ann only');
    // only the owner may change who sees it
    const denied = await refusal(
      c.bob.updateSegment({
        id: shared!.id,
        expectedVersion: 1n,
        segment: { visibility: Visibility.PRIVATE },
        updateMask: { paths: ['visibility'] },
      }),
    );
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    // seeing it is not enough to change it
    const notEditor = await refusal(
      c.bob.updateSegment({
        id: shared!.id,
        expectedVersion: 1n,
        segment: { description: 'by bob' },
        updateMask: { paths: ['description'] },
      }),
    );
    expect(notEditor.code).toBe(status.PERMISSION_DENIED);
  });

  it('lists with search, filters, sorting and cursor pages', async () => {
    for (const name of ['Alpha churners', 'Beta churners', 'Gamma churners']) {
      await c.bob.createSegment({
        kind: SegmentKind.STATIC_LIST,
        segment: { name, tags: ['churn'] },
      });
    }
    const first = await c.bob.listSegments({
      search: 'CHURN',
      sort: SegmentSort.NAME,
      page: { pageSize: 2 },
    });
    expect(first.segments.map((s) => s.name)).toEqual(['Alpha churners', 'Beta churners']);
    const second = await c.bob.listSegments({
      search: 'CHURN',
      sort: SegmentSort.NAME,
      page: { pageSize: 2, pageToken: first.nextPageToken },
    });
    expect(second.segments.map((s) => s.name)).toEqual(['Gamma churners']);
    expect(second.nextPageToken).toBe('');
    const descending = await c.bob.listSegments({
      tags: ['churn'],
      sort: SegmentSort.NAME,
      descending: true,
    });
    expect(descending.segments.map((s) => s.name)).toEqual([
      'Gamma churners',
      'Beta churners',
      'Alpha churners',
    ]);
    const wrongToken = await refusal(
      c.bob.listSegments({ search: 'other', page: { pageToken: first.nextPageToken } }),
    );
    expect(wrongToken.violations[0]?.field).toBe('page.pageToken');
    const lists = await c.bob.listSegments({ kinds: [SegmentKind.DYNAMIC], owners: ['bob'] });
    expect(lists.segments).toHaveLength(0);
  });

  it('refuses a list query before the store runs it when its search is long or its filters name what no segment has', async () => {
    await c.bob.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: 'Searched' } });
    // the embedded store compiles a search for every segment it looks at: a long one stalled it
    const long = await refusal(c.bob.listSegments({ search: 'x'.repeat(9_000) }));
    expect([long.code, long.violations]).toEqual([
      status.INVALID_ARGUMENT,
      [{ field: 'search', description: 'is 9000 characters; at most 200' }],
    ]);
    const filters = await refusal(
      c.bob.listSegments({
        owners: Array.from({ length: 1_000 }, (_, i) => `user ${i}`),
        visibilities: [Visibility.SHARED, 9_999 as Visibility],
      }),
    );
    expect(filters.violations.map((v) => v.field)).toEqual(['owners', 'visibilities[1]']);
  });

  it('refuses to delete a segment in use unless forced, and publishes a tombstone', async () => {
    const { segment: base } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Buyers',
        visibility: Visibility.SHARED,
        rule: rule({ condition: { event: { name: 'Order Completed', count: { gte: 1 } } } }),
      },
    });
    const { segment: dependent } = await c.bob.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Buyers with consent',
        rule: rule({
          condition: {
            all: {
              conditions: [{ inSegment: base!.id }, { trait: { path: 'consent', equals: true } }],
            },
          },
        }),
      },
    });
    // bob's private segment counts, but nothing about it is told
    const { usages } = await c.ann.getSegmentUsages({ id: base!.id });
    expect(usages).toEqual([
      expect.objectContaining({ kind: UsageKind.SEGMENT, id: '', name: '' }),
    ]);

    // editing a segment in use goes through and says what it affects
    const edited = await c.ann.updateSegment({
      id: base!.id,
      expectedVersion: 1n,
      segment: { description: 'any order' },
      updateMask: { paths: ['description'] },
    });
    expect(edited.usages.map((u) => u.kind)).toEqual([UsageKind.SEGMENT]);
    expect((await c.bob.getSegmentUsages({ id: base!.id })).usages.map((u) => u.id)).toEqual([
      dependent!.id,
    ]);

    const refused = await refusal(c.ann.deleteSegment({ id: base!.id, expectedVersion: 2n }));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).not.toContain(dependent!.id);
    expect(refused.details).toContain('1 segment you cannot see');
    expect(
      (await refusal(c.bob.deleteSegment({ id: base!.id, expectedVersion: 2n, force: true }))).code,
    ).toBe(status.PERMISSION_DENIED);

    const deleted = await c.ann.deleteSegment({ id: base!.id, expectedVersion: 2n, force: true });
    expect(deleted.usages).toHaveLength(1);
    expect((await refusal(c.ann.getSegment({ id: base!.id }))).code).toBe(status.NOT_FOUND);
    // history outlives the deletion until purged
    const { changes } = await c.ann.getSegmentHistory({ id: base!.id });
    expect(changes[0]?.action).toBe(ChangeAction.DELETED);
    await eventually(async () => {
      const all = await publishedDefinitions(scope);
      const mine = all.filter((r) => r.key === base!.id);
      expect(mine[mine.length - 1]?.segment).toBeNull();
    });
    await c.ann.purgeSegment({ id: base!.id });
    expect((await refusal(c.ann.getSegmentHistory({ id: base!.id }))).code).toBe(status.NOT_FOUND);
  });

  it('locks a segment while an auto-syncing destination uses it', async () => {
    const { segment } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name: 'Synced', rule: rule({ condition: { hasTag: 'vip' } }) },
    });
    const id = segment!.id;
    expect(
      (
        await refusal(
          c.ann.setDestinationUsage({
            segmentId: id,
            destinationId: 'd1',
            autoSync: true,
            inUse: true,
          }),
        )
      ).code,
    ).toBe(status.PERMISSION_DENIED);
    const { segment: locked } = await c.exporter.setDestinationUsage({
      segmentId: id,
      destinationId: 'd1',
      destinationName: 'CRM',
      autoSync: true,
      inUse: true,
    });
    expect(locked?.lock).toMatchObject({ locked: true, destinationIds: ['d1'] });
    const refused = await refusal(
      c.ann.renameSegment({ id, expectedVersion: locked!.version, name: 'Renamed' }),
    );
    expect(refused).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'SEGMENT_LOCKED' });
    const { usages } = await c.ann.getSegmentUsages({ id });
    expect(usages).toEqual([
      expect.objectContaining({
        kind: UsageKind.DESTINATION,
        id: 'd1',
        name: 'CRM',
        autoSync: true,
      }),
    ]);
    const { segment: unlocked } = await c.exporter.setDestinationUsage({
      segmentId: id,
      destinationId: 'd1',
      inUse: false,
    });
    expect(unlocked?.lock?.locked).toBe(false);
    await expect(
      c.ann.renameSegment({ id, expectedVersion: unlocked!.version, name: 'Renamed' }),
    ).resolves.toBeDefined();
  });

  it('answers every call that returns a segment with where publishing it stands', async () => {
    const { segment } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Answered' },
    });
    const id = segment!.id;
    const unchanged = await c.ann.activateSegment({ id, expectedVersion: 1n });
    expect(unchanged.segment?.version).toBe(1n);
    expect(unchanged.segment?.publication).toBeDefined();
    const used = await c.exporter.setDestinationUsage({
      segmentId: id,
      destinationId: 'dest_answer',
      autoSync: false,
      inUse: true,
    });
    expect(used.segment?.publication?.state).toBe(PublicationState.PENDING);
  });

  it('saves drafts without computing them until activated, and deactivates', async () => {
    const { segment: draft } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      draft: true,
      segment: { name: 'Work in progress', rule: rule({ condition: { hasTag: 'beta' } }) },
    });
    expect(draft).toMatchObject({ state: SegmentState.DRAFT, status: SegmentStatus.INACTIVE });
    const { segment: active } = await c.ann.activateSegment({ id: draft!.id, expectedVersion: 1n });
    expect(active).toMatchObject({
      state: SegmentState.COMPUTING,
      status: SegmentStatus.ACTIVE,
      version: 2n,
    });
    const { segment: inactive } = await c.ann.deactivateSegment({
      id: draft!.id,
      expectedVersion: 2n,
    });
    expect(inactive).toMatchObject({ status: SegmentStatus.INACTIVE, version: 3n });
    const { segment: copy } = await c.bob.duplicateSegment({
      id: (
        await c.ann.createSegment({
          kind: SegmentKind.STATIC_LIST,
          segment: { name: 'Shared source', visibility: Visibility.SHARED },
        })
      ).segment!.id,
    });
    expect(copy).toMatchObject({
      name: 'Shared source (copy)',
      owner: 'bob',
      visibility: Visibility.PRIVATE,
      version: 1n,
    });
  });
});

describe('SegmentService: who may change and use a shared segment', () => {
  const { c } = segmentsForTests();

  it('lets the owner and named editors change a shared segment, and only the owner name who', async () => {
    const { segment: shared } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Edited together',
        visibility: Visibility.SHARED,
        rule: rule({ condition: { hasTag: 'vip' } }),
      },
    });
    const id = shared!.id;
    const describe = (client: typeof c.bob, expectedVersion: bigint, description: string) =>
      client.updateSegment({
        id,
        expectedVersion,
        segment: { description },
        updateMask: { paths: ['description'] },
      });
    expect((await refusal(describe(c.bob, 1n, 'by bob'))).code).toBe(status.PERMISSION_DENIED);
    expect((await refusal(c.bob.activateSegment({ id, expectedVersion: 1n }))).code).toBe(
      status.PERMISSION_DENIED,
    );

    const { segment: withEditors } = await c.ann.updateSegment({
      id,
      expectedVersion: 1n,
      segment: { editors: { subjects: ['bob'], groups: ['sales'] } },
      updateMask: { paths: ['editors'] },
    });
    expect(withEditors?.editors).toMatchObject({ subjects: ['bob'], groups: ['sales'] });
    await expect(describe(c.bob, 2n, 'by bob')).resolves.toMatchObject({
      segment: { description: 'by bob', updatedBy: 'bob' },
    });
    await expect(describe(c.eve, 3n, 'by eve, in sales')).resolves.toMatchObject({
      segment: { updatedBy: 'eve' },
    });
    // editors change the definition, not who may see or change it, nor its name
    const ownerOnly: [string, SegmentDraftInit][] = [
      ['editors', { editors: { subjects: ['bob', 'carl'] } }],
      ['hidden_from', { hiddenFrom: { subjects: ['ann'] } }],
      ['name', { name: 'Taken over' }],
    ];
    for (const [field, value] of ownerOnly) {
      const denied = await refusal(
        c.bob.updateSegment({
          id,
          expectedVersion: 4n,
          segment: value,
          updateMask: { paths: [field] },
        }),
      );
      expect(denied.code).toBe(status.PERMISSION_DENIED);
    }
    const { changes } = await c.ann.getSegmentHistory({ id });
    expect(changes.find((ch) => ch.version === 2n)?.fields.map((f) => f.field)).toEqual([
      'editors',
    ]);
  });

  it('lets only the owner and editors change a shared list’s members', async () => {
    const { segment: list } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Shared list', visibility: Visibility.SHARED },
    });
    const listId = list!.id;
    const add = (client: typeof c.bob) => client.addListMembers({ listId, memberIds: ['p1'] });
    expect((await refusal(add(c.bob))).code).toBe(status.PERMISSION_DENIED);
    await expect(c.bob.listListMembers({ listId })).resolves.toMatchObject({ memberIds: [] });
    await c.ann.updateSegment({
      id: listId,
      expectedVersion: 1n,
      segment: { editors: { groups: ['marketing'] } },
      updateMask: { paths: ['editors'] },
    });
    await expect(add(c.bob)).resolves.toMatchObject({ added: 1 });
  });

  it('answers a rename of someone else’s shared segment alike whatever names its owner uses', async () => {
    await c.ann.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: 'Secret plans' } });
    const { segment: shared } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: {
        name: 'Open plans',
        visibility: Visibility.SHARED,
        editors: { subjects: ['bob'] },
      },
    });
    const rename = (name: string) =>
      refusal(c.bob.renameSegment({ id: shared!.id, expectedVersion: 1n, name }));
    const taken = await rename('secret PLANS');
    const free = await rename('Nothing like it');
    expect(taken.code).toBe(status.PERMISSION_DENIED);
    expect({ code: taken.code, details: taken.details, reason: taken.reason }).toEqual({
      code: free.code,
      details: free.details,
      reason: free.reason,
    });
  });

  it('refuses a shared segment that uses a private or more hidden segment, with the path', async () => {
    const { segment: annPrivate } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name: 'Ann’s private buyers', rule: rule({ condition: { hasTag: 'buyer' } }) },
    });
    const sharing = await refusal(
      c.ann.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Shared on private',
          visibility: Visibility.SHARED,
          rule: rule({
            condition: { all: { conditions: [{ hasTag: 'x' }, { inSegment: annPrivate!.id }] } },
          }),
        },
      }),
    );
    expect(sharing.code).toBe(status.INVALID_ARGUMENT);
    expect(sharing.violations.map((v) => v.field)).toEqual([
      'segment.rule.condition.all.conditions[1].inSegment',
    ]);

    // an editor cannot point someone else's shared segment at their own private list
    const { segment: team } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Team buyers',
        visibility: Visibility.SHARED,
        editors: { subjects: ['bob'] },
        rule: rule({ condition: { hasTag: 'buyer' } }),
      },
    });
    const { segment: bobList } = await c.bob.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Bob’s list' },
    });
    const smuggled = await refusal(
      c.bob.updateSegment({
        id: team!.id,
        expectedVersion: 1n,
        segment: { rule: rule({ condition: { inList: bobList!.id } }) },
        updateMask: { paths: ['rule'] },
      }),
    );
    expect(smuggled.violations.map((v) => v.field)).toEqual(['segment.rule.condition.inList']);

    // a segment hidden from sales may not be used by one that sales can see
    const { segment: notForSales } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Not for sales',
        visibility: Visibility.SHARED,
        hiddenFrom: { groups: ['sales'] },
        rule: rule({ condition: { hasTag: 'margin' } }),
      },
    });
    const wider = await refusal(
      c.bob.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Everyone sees this',
          visibility: Visibility.SHARED,
          rule: rule({ condition: { notInSegment: notForSales!.id } }),
        },
      }),
    );
    expect(wider.violations.map((v) => v.field)).toEqual(['segment.rule.condition.notInSegment']);
    await expect(
      c.bob.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Hidden from sales too',
          visibility: Visibility.SHARED,
          hiddenFrom: { groups: ['sales'] },
          rule: rule({ condition: { notInSegment: notForSales!.id } }),
        },
      }),
    ).resolves.toBeDefined();
  });

  it('refuses to make a used segment private or hidden from who sees its users, listing them', async () => {
    const { segment: base } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Widely used',
        visibility: Visibility.SHARED,
        rule: rule({ condition: { hasTag: 'loyal' } }),
      },
    });
    const { segment: user } = await c.bob.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Uses it, shared',
        visibility: Visibility.SHARED,
        rule: rule({ condition: { inSegment: base!.id } }),
      },
    });
    for (const change of [
      { visibility: Visibility.PRIVATE },
      { visibility: Visibility.SHARED, hiddenFrom: { groups: ['sales'] } },
    ]) {
      const refused = await refusal(
        c.ann.updateSegment({
          id: base!.id,
          expectedVersion: 1n,
          segment: change,
          updateMask: { paths: ['visibility', 'hidden_from'] },
        }),
      );
      expect(refused.code).toBe(status.FAILED_PRECONDITION);
      expect(refused.details).toContain(user!.id);
    }
    // hiding it from someone who cannot see its user either is fine
    await c.bob.updateSegment({
      id: user!.id,
      expectedVersion: 1n,
      segment: { visibility: Visibility.PRIVATE },
      updateMask: { paths: ['visibility'] },
    });
    await expect(
      c.ann.updateSegment({
        id: base!.id,
        expectedVersion: 1n,
        segment: { hiddenFrom: { groups: ['sales'] } },
        updateMask: { paths: ['hidden_from'] },
      }),
    ).resolves.toBeDefined();
  });
});

/**
 * A segments service whose definitions relay another replica holds until `release()`, so the
 * changes made meanwhile are pending together; `sized` makes a segment with a rule about
 * `bytes` long.
 */
function heldBack(env: Env, prepare: (scope: TestScope) => Promise<void> = async () => undefined) {
  let release = async () => undefined as void;
  const running = segmentsForTests(env, async (scope) => {
    await prepare(scope);
    release = await holdDefinitionsRelay(scope);
  });
  const sized = (name: string, bytes: number) =>
    running.c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name,
        rule: rule({ condition: { trait: { path: 'note', equals: 'x'.repeat(bytes) } } }),
      },
    });
  return { ...running, sized, release: () => release() };
}

describe('SegmentService: publishing definitions', () => {
  const BROKER_LIMIT = 50_000;
  const { scope, c, sized, release } = heldBack(
    { RULE_MAX_OPERAND_LENGTH: String(4 * BROKER_LIMIT) },
    async (scope) => {
      // the definitions topic exists already, made by someone with a smaller record limit than
      // Shoal's own (its own topics take KAFKA_MAX_MESSAGE_BYTES)
      const admin = scope.kafka().admin();
      await admin.connect();
      await admin.createTopics({
        topics: [
          {
            topic: scope.topicName(segmentDefinitionsTopic),
            numPartitions: 2,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'max.message.bytes', value: String(BROKER_LIMIT) },
            ],
          },
        ],
        waitForLeaders: true,
      });
      await admin.disconnect();
    },
  );

  it('marks a definition the broker refuses as failed and publishes the others', async () => {
    const { segment: big } = await sized('Too big for the topic', 2 * BROKER_LIMIT);
    const { segment: small } = await sized('Small', 10);
    await release();
    await published(scope, [small!.id]);
    const failed = await eventually(async () => {
      const { segment } = await c.ann.getSegment({ id: big!.id });
      expect(segment?.publication?.state).toBe(PublicationState.FAILED);
      return segment!.publication!;
    });
    expect(failed).toMatchObject({ failedVersion: 1n, error: expect.stringMatching(/large/i) });
    expect((await c.ann.getSegment({ id: small!.id })).segment?.publication?.state).toBe(
      PublicationState.PUBLISHED,
    );

    // made small enough, it is published again
    await c.ann.updateSegment({
      id: big!.id,
      expectedVersion: 1n,
      segment: { rule: rule({ condition: { trait: { path: 'note', equals: 'short' } } }) },
      updateMask: { paths: ['rule'] },
    });
    await published(scope, [big!.id]);
    await eventually(async () => {
      const { segment } = await c.ann.getSegment({ id: big!.id });
      expect(segment?.publication).toMatchObject({
        state: PublicationState.PUBLISHED,
        error: '',
      });
    });
  });
});

describe('SegmentService: publishing large definitions', () => {
  const { scope, c, sized, release } = heldBack({
    RULE_MAX_OPERAND_LENGTH: '700000',
    SEGMENT_DEFINITION_MAX_BYTES: '700000',
  });

  it('publishes several large definitions pending together', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await sized(`Large ${i}`, 600_000)).segment!.id);
    for (const id of ids) {
      expect((await c.ann.getSegment({ id })).segment?.publication?.state).toBe(
        PublicationState.PENDING,
      );
    }
    await release();
    await published(scope, ids);
  });
});
