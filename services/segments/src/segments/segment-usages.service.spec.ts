import { ChangeAction, UsageKind, Visibility } from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import {
  ann,
  bob,
  eve,
  exporter,
  newSegmentsTestService,
  refusal,
  using,
} from '../../test/segments-test-service';
import { SegmentHistoryService } from './segment-history.service';
import { SegmentUsagesService } from './segment-usages.service';

async function setup() {
  const t = await newSegmentsTestService(SegmentUsagesService);
  const destination = (segmentId: string, id: string, autoSync: boolean, inUse = true) =>
    t.sut.setDestinationUsage({
      segmentId,
      destination: { id, name: `Destination ${id}`, autoSync },
      inUse,
      principal: exporter,
    });
  const actions = async (id: string) =>
    (
      await t.get(SegmentHistoryService).history({
        id,
        beforeVersion: 99,
        limit: 10,
        principal: ann,
      })
    )
      .map((c) => c.action)
      .reverse();
  return { ...t, usages: t.sut, destination, actions };
}

describe('segment usages', () => {
  it('lists the segments using one and the destinations syncing it', async () => {
    const t = await setup();
    const base = await t.make(ann, { name: 'Base', visibility: Visibility.SHARED });
    const user = await t.make(bob, { name: 'User', rule: using('inSegment', base.id) });
    await t.destination(base.id, 'dest_1', false);
    const usages = await t.usages.usages(base.id, bob);
    expect(usages.map((u) => [u.kind, u.id, u.name, u.autoSync])).toEqual([
      [UsageKind.SEGMENT, user.id, 'User', false],
      [UsageKind.DESTINATION, 'dest_1', 'Destination dest_1', false],
    ]);
  });

  it('counts a using segment the caller cannot see, and tells nothing about it', async () => {
    const t = await setup();
    const base = await t.make(ann, { name: 'Base', visibility: Visibility.SHARED });
    await t.make(eve, { name: 'Eve uses base', rule: using('inSegment', base.id) });
    const [usage] = await t.usages.usages(base.id, ann);
    expect([usage?.kind, usage?.id, usage?.name]).toEqual([UsageKind.SEGMENT, '', '']);
  });

  it('locks a segment against edits while an auto-syncing destination uses it', async () => {
    const t = await setup();
    const segment = await t.make(ann, { name: 'Synced' });
    const locked = await t.destination(segment.id, 'dest_1', true);
    expect(locked.lock).toMatchObject({ locked: true, destinationIds: ['dest_1'] });
    const edit = await refusal(
      t.update(ann, segment.id, 2n, { description: 'x' }, ['description']),
    );
    expect([edit.kind, edit.reason, edit.message]).toEqual([
      ErrorKind.FailedPrecondition,
      'SEGMENT_LOCKED',
      `segment ${segment.id} is locked while auto-syncing destinations use it (dest_1)`,
    ]);
    const rename = t.segments.rename({
      id: segment.id,
      expectedVersion: 2n,
      name: 'N',
      principal: ann,
    });
    expect((await refusal(rename)).reason).toBe('SEGMENT_LOCKED');

    await t.destination(segment.id, 'dest_2', true);
    await t.destination(segment.id, 'dest_1', true, false);
    const unlocked = await t.destination(segment.id, 'dest_2', true, false);
    expect(unlocked.lock).toMatchObject({ locked: false, destinationIds: [] });
    await t.update(ann, segment.id, 5n, { description: 'x' }, ['description']);
    expect(await t.actions(segment.id)).toEqual([
      ChangeAction.CREATED,
      ChangeAction.LOCKED,
      ChangeAction.UPDATED,
      ChangeAction.UPDATED,
      ChangeAction.UNLOCKED,
      ChangeAction.UPDATED,
    ]);
  });

  it('leaves a segment editable while only destinations that do not sync use it', async () => {
    const t = await setup();
    const segment = await t.make(ann, { name: 'Exported by hand' });
    const used = await t.destination(segment.id, 'dest_1', false);
    expect(used.lock?.locked).toBe(false);
    await t.update(ann, segment.id, 2n, { description: 'x' }, ['description']);
  });

  it('refuses a destination id or name that is empty, too long or not printable, at its path', async () => {
    const t = await setup();
    const segment = await t.make(ann, { name: 'Exported' });
    const use = (id: string, name: string) =>
      refusal(
        t.usages.setDestinationUsage({
          segmentId: segment.id,
          destination: { id, name, autoSync: true },
          inUse: true,
          principal: exporter,
        }),
      );
    const long = await use('d'.repeat(257), 'n'.repeat(201));
    expect([long.kind, long.violations.map((v) => v.field)]).toEqual([
      ErrorKind.InvalidArgument,
      ['destinationId', 'destinationName'],
    ]);
    const unprintable = await use('dest\u0000', 'line\nbreak');
    expect(unprintable.violations.map((v) => v.field)).toEqual([
      'destinationId',
      'destinationName',
    ]);
    expect((await t.segments.get(segment.id, ann)).version).toBe(1n);
  });

  it('records destination usage only from Shoal services', async () => {
    const t = await setup();
    const segment = await t.make(ann, { name: 'Mine' });
    const refused = await refusal(
      t.usages.setDestinationUsage({
        segmentId: segment.id,
        destination: { id: 'dest_1', name: 'Mine', autoSync: true },
        inUse: true,
        principal: ann,
      }),
    );
    expect([refused.kind, refused.reason]).toEqual([ErrorKind.PermissionDenied, 'SERVICE_ONLY']);
  });
});
