import { status } from '@grpc/grpc-js';
import {
  ChangeAction,
  RefreshMode,
  SegmentKind,
  SegmentSort,
  SegmentState,
  SegmentStatus,
  UsageKind,
  Visibility,
} from '@shoal/contracts';
import type { RunningService } from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import { segmentsService } from '../src/service';
import { callers, productExample, publishedDefinitions, refusal, rule } from './segment-client';

describe('SegmentService: definitions, versions, visibility', () => {
  const scope = new TestScope();
  let service: RunningService;
  let c: Awaited<ReturnType<typeof callers>>;

  beforeAll(async () => {
    service = await scope.start(segmentsService);
    c = await callers(scope, service);
  });
  afterAll(() => scope.close());

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
    // everyone else who sees it may edit it
    await expect(
      c.bob.updateSegment({
        id: shared!.id,
        expectedVersion: 1n,
        segment: { description: 'by bob' },
        updateMask: { paths: ['description'] },
      }),
    ).resolves.toMatchObject({ segment: { description: 'by bob', updatedBy: 'bob' } });
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
    const { usages } = await c.ann.getSegmentUsages({ id: base!.id });
    expect(usages).toEqual([
      expect.objectContaining({ kind: UsageKind.SEGMENT, id: dependent!.id, name: '' }),
    ]);

    // editing a segment in use goes through and says what it affects
    const edited = await c.ann.updateSegment({
      id: base!.id,
      expectedVersion: 1n,
      segment: { description: 'any order' },
      updateMask: { paths: ['description'] },
    });
    expect(edited.usages.map((u) => u.id)).toEqual([dependent!.id]);

    const refused = await refusal(c.ann.deleteSegment({ id: base!.id, expectedVersion: 2n }));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toContain(dependent!.id);
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
