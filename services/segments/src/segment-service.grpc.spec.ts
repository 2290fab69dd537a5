import { SegmentService } from '@shoal/contracts';
import { SegmentServiceGrpc } from './segment-service.grpc';
import { SegmentsGrpc } from './segments/segments.grpc';
import type { SegmentsService } from './segments/segments.service';
import { StaticListsGrpc } from './static-lists/static-lists.grpc';
import type { StaticListsService } from './static-lists/static-lists.service';
import { TemplatesGrpc } from './templates/templates.grpc';
import type { TemplatesService } from './templates/templates.service';

describe('SegmentService as served', () => {
  const called: string[] = [];
  const segments = { get: async () => called.push('segments') } as unknown as SegmentsService;
  const lists = { count: async () => called.push('lists') } as unknown as StaticListsService;
  const templates = { list: () => called.push('templates') } as unknown as TemplatesService;
  const never = undefined as never;
  const grpc = new SegmentServiceGrpc(
    new SegmentsGrpc(segments, never, never, never, never),
    new StaticListsGrpc(lists, never),
    new TemplatesGrpc(templates),
  ) as unknown as Record<string, (request: unknown, context: unknown) => Promise<unknown>>;

  it('serves every RPC', () => {
    expect(Object.keys(grpc).sort()).toEqual(SegmentService.methods.map((m) => m.localName).sort());
  });

  it('answers each RPC from the feature that owns it', async () => {
    const context = { principal: { subject: 'ann', groups: [], kind: 'user' } };
    await grpc['getSegment']!({ id: 'seg_1' }, context);
    await grpc['countListMembers']!({ listId: 'seg_1' }, context);
    await grpc['listTemplates']!({}, context);
    expect(called).toEqual(['segments', 'lists', 'templates']);
  });
});
