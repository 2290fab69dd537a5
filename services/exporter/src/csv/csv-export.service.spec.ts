import { create } from '@bufbuild/protobuf';
import {
  CsvColumnKind,
  CsvColumnSchema,
  type Profile,
  ProfileSchema,
  SegmentSchema,
  Visibility,
} from '@shoal/contracts';
import { DomainError, type Principal } from '@shoal/platform';
import { newTestService, refusalOf } from '@shoal/testing';
import { MEMBER_SOURCE, PROFILE_SOURCE } from '../peers/peers.ports';
import { SegmentAccessService } from '../segments/segment-access.service';
import { SegmentDefinitions } from '../segments/segment-definitions';
import { CSV_SETTINGS, type CsvChunk, CsvExportService } from './csv-export.service';

const ann: Principal = { subject: 'ann', groups: [], kind: 'user' };
const bob: Principal = { subject: 'bob', groups: ['sales'], kind: 'user' };

async function setup(members: string[][], profiles: Record<string, Profile>) {
  const definitions = new SegmentDefinitions();
  definitions.apply([
    {
      segmentId: 'seg_mine',
      definition: create(SegmentSchema, {
        id: 'seg_mine',
        owner: 'ann',
        visibility: Visibility.PRIVATE,
        version: 1n,
      }),
    },
    {
      segmentId: 'seg_hidden',
      definition: create(SegmentSchema, {
        id: 'seg_hidden',
        owner: 'ann',
        visibility: Visibility.SHARED,
        hiddenFrom: { groups: ['sales'] },
        version: 1n,
      }),
    },
  ]);
  const pageReads: number[] = [];
  return newTestService(CsvExportService, {
    fakes: [
      [
        MEMBER_SOURCE,
        {
          pages: async function* () {
            for (const [index, page] of members.entries()) {
              pageReads.push(index);
              yield page;
            }
          },
        },
      ],
      [
        PROFILE_SOURCE,
        {
          profiles: async (ids: string[]) =>
            new Map(ids.filter((id) => profiles[id]).map((id) => [id, profiles[id]!])),
        },
      ],
    ],
    providers: [
      { provide: SegmentDefinitions, useValue: definitions },
      SegmentAccessService,
      { provide: CSV_SETTINGS, useValue: { pageSize: 2, maxColumns: 3 } },
    ],
  }).then((test) => ({ ...test, pageReads, definitions }));
}

async function all(chunks: AsyncIterable<CsvChunk>): Promise<CsvChunk[]> {
  const out: CsvChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

const profile = (id: string) => create(ProfileSchema, { id });

describe('CsvExportService', () => {
  it('writes the header, then one chunk per page, leaving out members without a profile', async () => {
    const { sut } = await setup([['p1', 'p2'], ['p3']], { p1: profile('p1'), p3: profile('p3') });
    const chunks = await all(
      await sut.open({
        segmentId: 'seg_mine',
        columns: [create(CsvColumnSchema, { kind: CsvColumnKind.PROFILE_ID })],
        principal: ann,
      }),
    );
    expect(chunks).toEqual([
      { text: 'profile_id\r\n', rows: 0 },
      { text: 'p1\r\n', rows: 1 },
      { text: 'p3\r\n', rows: 1 },
    ]);
  });

  it('reads the next page only once the previous chunk was taken', async () => {
    const { sut, pageReads } = await setup([['p1'], ['p2'], ['p3']], {
      p1: profile('p1'),
      p2: profile('p2'),
      p3: profile('p3'),
    });
    const iterator = (await sut.open({ segmentId: 'seg_mine', columns: [], principal: ann }))[
      Symbol.asyncIterator
    ]();
    await iterator.next(); // header
    await iterator.next(); // page 0
    expect(pageReads).toEqual([0]);
    await iterator.return?.();
  });

  it.each([
    ['a private segment of someone else', 'seg_mine'],
    ['a shared segment hidden from the caller', 'seg_hidden'],
    ['an unknown segment', 'seg_unknown'],
  ])('refuses %s as NOT_FOUND before streaming', async (_, segmentId) => {
    const { sut } = await setup([], {});
    const refusal = await refusalOf(
      Promise.resolve().then(() => sut.open({ segmentId, columns: [], principal: bob })),
      DomainError,
    );
    expect(refusal.reason).toBe('SEGMENT_NOT_FOUND');
  });

  it('exports a segment published a moment ago: one it does not know makes it read the definitions topic first', async () => {
    const { sut, definitions } = await setup([['p1']], { p1: profile('p1') });
    let reads = 0;
    definitions.readsFrom({
      readToEnd: async () => {
        reads += 1;
        // what the topic held when asked: the segment created just before the request
        definitions.apply([
          {
            segmentId: 'seg_fresh',
            definition: create(SegmentSchema, { id: 'seg_fresh', owner: 'ann', version: 1n }),
          },
        ]);
        return true;
      },
    });
    await all(await sut.open({ segmentId: 'seg_mine', columns: [], principal: ann }));
    expect(reads).toBe(0);
    const chunks = await all(
      await sut.open({ segmentId: 'seg_fresh', columns: [], principal: ann }),
    );
    expect(chunks.map((c) => c.rows)).toEqual([0, 1]);
    expect(reads).toBe(1);
  });

  it('refuses more columns than allowed and columns without what they need', async () => {
    const { sut } = await setup([], {});
    const columns = [
      create(CsvColumnSchema, { kind: CsvColumnKind.TRAIT }),
      create(CsvColumnSchema, { kind: CsvColumnKind.UNSPECIFIED }),
      create(CsvColumnSchema, { kind: CsvColumnKind.PROFILE_ID, trait: 'x' }),
      create(CsvColumnSchema, { kind: CsvColumnKind.PROFILE_ID }),
    ];
    const refusal = await refusalOf(
      Promise.resolve().then(() => sut.open({ segmentId: 'seg_mine', columns, principal: ann })),
      DomainError,
    );
    expect(refusal.violations.map((v) => v.field)).toEqual([
      'columns',
      'columns[0].trait',
      'columns[1].kind',
      'columns[2].trait',
    ]);
  });
});
