import { randomBytes } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import {
  type ListMembershipChanged,
  ListMembershipChangedSchema,
  SegmentKind,
  SegmentSort,
  listMembershipTopic,
} from '@shoal/contracts';
import { TestScope, eventually } from '@shoal/testing';
import { segmentsService } from '../src/service';
import { callers, refusal } from './segment-client';

type Client = Awaited<ReturnType<typeof callers>>['ann'];

const randomIds = (n: number) =>
  Array.from({ length: n }, () => `user:${randomBytes(8).toString('hex')}`);

/** Every member of a list, read page by page with page tokens. */
async function allMembers(client: Client, listId: string, pageSize: number): Promise<string[]> {
  const members: string[] = [];
  let pageToken = '';
  do {
    const page = await client.listListMembers({ listId, page: { pageSize, pageToken } });
    members.push(...page.memberIds);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return members;
}

async function count(client: Client, listId: string): Promise<number> {
  return Number((await client.countListMembers({ listId })).memberCount);
}

describe('SegmentService: static lists at scale', () => {
  const scope = new TestScope();
  let ann: Client;
  let annOnReplica: Client;

  /** The changes published for a list so far, in partition order (so in order per member). */
  async function published(listId: string): Promise<ListMembershipChanged[]> {
    return (await scope.readTopicToEnd(listMembershipTopic, 60_000))
      .map((r) => fromBinary(ListMembershipChangedSchema, r.value as Buffer))
      .filter((c) => c.listId === listId);
  }

  /** Waits until the service has published every committed change of the list. */
  async function publishedAll(listId: string) {
    const heads = (await scope.mongo())
      .db(`t${scope.id}_segments`)
      .collection<{ _id: string; outbox: unknown[] }>('list_heads');
    await eventually(async () => {
      expect((await heads.findOne({ _id: listId }))?.outbox).toEqual([]);
    }, 60_000);
    return published(listId);
  }

  async function newList(name: string): Promise<string> {
    const { segment } = await ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name },
    });
    return segment!.id;
  }

  beforeAll(async () => {
    // two replicas on one database, as a scaled-out deployment runs them
    ann = (await callers(scope, await scope.start(segmentsService))).ann;
    annOnReplica = (await callers(scope, await scope.start(segmentsService))).ann;
  });
  afterAll(() => scope.close());

  it('adds 20,000 ids in one call, pages and counts them, and removes them in two calls', async () => {
    const listId = await newList('Imported customers');
    const ids = randomIds(20_000);
    expect(await ann.addListMembers({ listId, memberIds: ids })).toMatchObject({ added: 20_000 });
    expect(await count(ann, listId)).toBe(20_000);
    expect(await allMembers(ann, listId, 3_000)).toEqual([...ids].sort());

    const leaving = ids.slice(0, 8_000);
    expect(await ann.removeListMembers({ listId, memberIds: leaving })).toMatchObject({
      removed: 8_000,
    });
    expect(await count(annOnReplica, listId)).toBe(12_000);
    expect(await allMembers(annOnReplica, listId, 10_000)).toEqual(ids.slice(8_000).sort());

    expect(await ann.removeListMembers({ listId, memberIds: ids })).toMatchObject({
      removed: 12_000,
    });
    expect(await count(ann, listId)).toBe(0);
    expect(await ann.listListMembers({ listId })).toMatchObject({
      memberIds: [],
      nextPageToken: '',
    });

    const changes = await publishedAll(listId);
    expect(changes).toHaveLength(40_000);
    const sequences = new Map<string, [boolean, bigint][]>();
    for (const c of changes) {
      sequences.set(c.memberId, [...(sequences.get(c.memberId) ?? []), [c.member, c.sequence]]);
    }
    expect(sequences.get(ids[0]!)).toEqual([
      [true, 1n],
      [false, 2n],
    ]);
    expect(sequences.get(ids[19_999]!)).toEqual([
      [true, 1n],
      [false, 3n],
    ]);
    expect([...sequences.values()].every((s) => s[0]![1] === 1n && s.length === 2)).toBe(true);
  });

  it("shows a list's member count in GetSegment and ListSegments, as CountListMembers counts, and sorts lists by it", async () => {
    const small = await newList('Counted small');
    const large = await newList('Counted large');
    await ann.addListMembers({ listId: small, memberIds: randomIds(2) });
    await annOnReplica.addListMembers({ listId: large, memberIds: randomIds(5) });
    await ann.removeListMembers({
      listId: large,
      memberIds: (await allMembers(ann, large, 10)).slice(0, 1),
    });
    const shown = async (client: Client) => {
      const { segments } = await client.listSegments({
        search: 'counted',
        sort: SegmentSort.MEMBER_COUNT,
        descending: true,
      });
      return {
        get: Number((await client.getSegment({ id: large })).segment?.memberCount),
        list: segments.map((s) => [s.id, Number(s.memberCount)]),
        counted: await count(client, large),
      };
    };
    const expected = {
      get: 4,
      list: [
        [large, 4],
        [small, 2],
      ],
      counted: 4,
    };
    expect(await shown(ann)).toEqual(expected);
    expect(await shown(annOnReplica)).toEqual(expected);
  });

  it("brings member counts kept before counts were, or left stale by a crash, up to the list's members when the service starts", async () => {
    const unkept = await newList('Kept before counts');
    const stale = await newList('Crashed before keeping');
    await ann.addListMembers({ listId: unkept, memberIds: randomIds(3) });
    await ann.addListMembers({ listId: stale, memberIds: randomIds(2) });
    await ann.addListMembers({ listId: stale, memberIds: randomIds(4) });
    const segments = (await scope.mongo()).db(`t${scope.id}_segments`).collection('segments');
    // as an older version left a list: no count kept
    await segments.updateOne(
      { _id: unkept as never },
      { $unset: { listSeq: '' }, $set: { memberCount: 0 } },
    );
    // as a process killed after committing the second add left it: the first add's count
    await segments.updateOne({ _id: stale as never }, { $set: { memberCount: 2, listSeq: 1 } });
    const shown = async (client: Client, id: string) =>
      Number((await client.getSegment({ id })).segment?.memberCount);
    expect([await shown(ann, unkept), await shown(ann, stale)]).toEqual([0, 2]);

    const restarted = (await callers(scope, await scope.start(segmentsService))).ann;

    await eventually(async () => {
      expect([await shown(restarted, unkept), await shown(restarted, stale)]).toEqual([3, 6]);
    }, 60_000);
    expect([await count(restarted, unkept), await count(restarted, stale)]).toEqual([3, 6]);
  });

  it('changes and publishes nothing more when the same add is retried', async () => {
    const listId = await newList('Retried import');
    const ids = randomIds(20_000);
    expect(await ann.addListMembers({ listId, memberIds: ids })).toMatchObject({ added: 20_000 });
    expect(await annOnReplica.addListMembers({ listId, memberIds: ids })).toMatchObject({
      added: 0,
    });
    expect(await count(ann, listId)).toBe(20_000);
    const changes = await publishedAll(listId);
    expect(changes).toHaveLength(20_000);
    expect(new Set(changes.map((c) => c.memberId)).size).toBe(20_000);
  });

  it('ends consistent when replicas add and remove the same member concurrently', async () => {
    const listId = await newList('Contended list');
    await ann.addListMembers({ listId, memberIds: randomIds(5_000) });
    const calls = Array.from({ length: 16 }, (_, i) => {
      const client = i % 2 === 0 ? ann : annOnReplica;
      return i % 4 < 2
        ? client.addListMembers({ listId, memberIds: ['shared', `own-${i}`] })
        : client.removeListMembers({ listId, memberIds: ['shared', `own-${i - 2}`] });
    });
    await Promise.all(calls);

    const members = await allMembers(ann, listId, 10_000);
    expect(await count(annOnReplica, listId)).toBe(members.length);
    const last = new Map<string, ListMembershipChanged>();
    for (const change of await publishedAll(listId)) {
      const before = last.get(change.memberId);
      expect(before === undefined || before.sequence < change.sequence).toBe(true);
      last.set(change.memberId, change);
    }
    const publishedMembers = [...last.values()].filter((c) => c.member).map((c) => c.memberId);
    expect(publishedMembers.sort()).toEqual(members);
  });

  it('applies both when two replicas add the first members of a list at the same time', async () => {
    const listId = await newList('Raced list');
    const [one, two] = [randomIds(3_000), randomIds(3_000)];
    const [first, second] = await Promise.all([
      ann.addListMembers({ listId, memberIds: one }),
      annOnReplica.addListMembers({ listId, memberIds: [...two, ...one.slice(0, 1_000)] }),
    ]);
    expect(first.added + second.added).toBe(6_000);
    expect(await allMembers(ann, listId, 10_000)).toEqual([...one, ...two].sort());
    // one call committed as the list's first change, the other as its second
    const changes = await publishedAll(listId);
    const perChange = [1n, 2n].map((seq) => changes.filter((c) => c.sequence === seq).length);
    expect(perChange.sort()).toEqual([first.added, second.added].sort());
    expect(changes).toHaveLength(6_000);
  });

  it('refuses more than 100,000 ids in one call, and names the first 100 bad ids', async () => {
    const listId = await newList('Too much at once');
    const tooMany = Array.from({ length: 100_001 }, (_, i) => `p${i}`);
    const refused = await refusal(ann.addListMembers({ listId, memberIds: tooMany }));
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    expect(refused.details).toContain('at most 100000 per call');
    expect(await count(ann, listId)).toBe(0);

    const bad = await refusal(
      ann.addListMembers({ listId, memberIds: ['ok', ...Array<string>(5_000).fill('')] }),
    );
    // the refusal fits one trailer: the first bad ids by path, then how many more problems
    expect(bad.violations[0]).toMatchObject({ field: 'memberIds[1]' });
    expect(bad.violations.length).toBeLessThanOrEqual(101);
    expect(bad.violations.at(-1)?.description).toMatch(/^and \d+ more problems$/);
  });
});
