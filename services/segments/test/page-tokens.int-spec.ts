import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { ListSegmentsRequestSchema, SegmentKind, Visibility } from '@shoal/contracts';
import { TestScope } from '@shoal/testing';
import { segmentsService } from '../src/service';
import { callers, refusal } from './segment-client';

/**
 * What a caller can make of a page token without the service's secret: tokens are opaque, so
 * anything not minted by the service for the same query is refused, and nothing in a token ever
 * reaches the store as a query operator.
 */
describe('SegmentService: page tokens', () => {
  const scope = new TestScope();
  let c: Awaited<ReturnType<typeof callers>>;
  let listId: string;

  beforeAll(async () => {
    c = await callers(scope, await scope.start(segmentsService));
    const { segment } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Paged list', visibility: Visibility.SHARED },
    });
    listId = segment!.id;
    await c.ann.renameSegment({ id: listId, expectedVersion: segment!.version, name: 'Paged' });
    await c.ann.addListMembers({ listId, memberIds: ['m1', 'm2', 'm3'] });
    for (const name of ['Paged one', 'Paged two', 'Paged three']) {
      await c.ann.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name } });
    }
  });
  afterAll(() => scope.close());

  /** A token built the way a page token looks from outside: base64url JSON. */
  const handMade = (position: unknown, query: unknown) => {
    const q = createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
    return Buffer.from(JSON.stringify({ p: position, q })).toString('base64url');
  };
  const refusedToken = async (call: Promise<unknown>) => {
    const error = await refusal(call);
    expect({ code: status[error.code], fields: error.violations.map((v) => v.field) }).toEqual({
      code: 'INVALID_ARGUMENT',
      fields: ['page.pageToken'],
    });
  };

  it('refuses a hand-made token whose position is a query operator', async () => {
    for (const position of [{ $gt: '' }, { $ne: null }, { $regex: '.*' }, { $foo: 1 }]) {
      await refusedToken(
        c.ann.listListMembers({
          listId,
          page: { pageToken: handMade(position, { listId }) },
        }),
      );
    }
    const request = create(ListSegmentsRequestSchema, { search: 'Paged' });
    const listQuery = { ...request, page: undefined, subject: 'ann' };
    await refusedToken(
      c.ann.listSegments({
        search: 'Paged',
        page: { pageToken: handMade({ value: { $gt: '' }, id: { $ne: null } }, listQuery) },
      }),
    );
  });

  it('refuses a token with a changed byte', async () => {
    const first = await c.ann.listListMembers({ listId, page: { pageSize: 1 } });
    expect(first.nextPageToken).not.toBe('');
    const token = first.nextPageToken;
    const at = Math.floor(token.length / 3);
    const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    await refusedToken(c.ann.listListMembers({ listId, page: { pageToken: tampered } }));
  });

  it('refuses a token from another query, another list call or another caller', async () => {
    const members = await c.ann.listListMembers({ listId, page: { pageSize: 1 } });
    const history = await c.ann.getSegmentHistory({ id: listId, page: { pageSize: 1 } });
    const segments = await c.ann.listSegments({ search: 'Paged', page: { pageSize: 1 } });
    expect([members, history, segments].every((r) => r.nextPageToken !== '')).toBe(true);

    await refusedToken(
      c.ann.listSegments({ search: 'other', page: { pageToken: segments.nextPageToken } }),
    );
    await refusedToken(
      c.bob.listSegments({ search: 'Paged', page: { pageToken: segments.nextPageToken } }),
    );
    await refusedToken(
      c.ann.getSegmentHistory({ id: listId, page: { pageToken: members.nextPageToken } }),
    );
    await refusedToken(
      c.ann.listListMembers({ listId, page: { pageToken: history.nextPageToken } }),
    );
  });

  it('refuses an over-long token without looking inside it', async () => {
    await refusedToken(c.ann.listListMembers({ listId, page: { pageToken: 'x'.repeat(100_000) } }));
  });

  it('continues a list from its own token', async () => {
    const first = await c.ann.listListMembers({ listId, page: { pageSize: 2 } });
    const rest = await c.ann.listListMembers({
      listId,
      page: { pageSize: 2, pageToken: first.nextPageToken },
    });
    expect([...first.memberIds, ...rest.memberIds]).toEqual(['m1', 'm2', 'm3']);
  });
});
