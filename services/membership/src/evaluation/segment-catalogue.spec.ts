import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RuleSchema, SegmentKind, SegmentSchema, SegmentStatus } from '@shoal/contracts';
import { SegmentCatalogue, summaryOf } from './segment-catalogue';

function dynamic(id: string, condition: JsonValue, status = SegmentStatus.ACTIVE) {
  return create(SegmentSchema, {
    id,
    kind: SegmentKind.DYNAMIC,
    version: 3n,
    status,
    rule: fromJson(RuleSchema, { condition }),
  });
}

describe('the segment catalogue', () => {
  it('orders segments after the segments they reference', () => {
    const catalogue = SegmentCatalogue.build({
      definitions: [
        dynamic('a', { inSegment: 'b' }),
        dynamic('b', { inSegment: 'c' }),
        dynamic('c', { hasTag: 'x' }),
      ],
    });
    expect(catalogue.order).toEqual(['c', 'b', 'a']);
    expect(catalogue.dependentsOf('c')).toEqual(['b']);
  });

  it('fails the segments of a reference cycle and keeps evaluating the others', () => {
    const catalogue = SegmentCatalogue.build({
      definitions: [
        dynamic('a', { inSegment: 'b' }),
        dynamic('b', { inSegment: 'a' }),
        dynamic('c', { inSegment: 'a' }),
      ],
    });
    expect([...catalogue.failed.keys()].sort()).toEqual(['a', 'b']);
    expect(catalogue.failed.get('a')?.reason).toMatch(/cycle/);
    expect(catalogue.order).toEqual(['c']);
  });

  it('indexes segments by the event names, trait keys, tags and lists they read', () => {
    const catalogue = SegmentCatalogue.build({
      definitions: [
        dynamic('events', { event: { name: 'Order', count: { gte: 1 } } }),
        dynamic('traits', { trait: { path: 'address.city', equals: 'Oslo' } }),
        dynamic('tags', { hasTag: 'vip' }),
        dynamic('lists', { notInList: 'list_x' }),
      ],
    });
    expect(catalogue.segmentsReadingEvent('Order')).toEqual(['events']);
    expect(catalogue.segmentsReadingTrait('address')).toEqual(['traits']);
    expect(catalogue.segmentsReadingTag('vip')).toEqual(['tags']);
    expect(catalogue.segmentsReadingList('list_x')).toEqual(['lists']);
    expect(catalogue.specsForEvent('Order')).toHaveLength(1);
  });

  it('keeps the specs of inactive segments, so activating one needs no history', () => {
    const catalogue = SegmentCatalogue.build({
      definitions: [
        dynamic('paused', { event: { name: 'Order', count: { gte: 1 } } }, SegmentStatus.INACTIVE),
      ],
    });
    expect(catalogue.isLive('paused')).toBe(false);
    expect(Object.keys(summaryOf(catalogue).specs)).toHaveLength(1);
    expect(summaryOf(catalogue).versions).toEqual({ paused: 3 });
  });
});
