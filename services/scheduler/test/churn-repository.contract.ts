import type { ChurnIncrement, ChurnRepositoryPort } from '../src/churn/churn.repository.port';

const DAY = '2026-11-20';

const increment = (fields: Partial<ChurnIncrement>): ChurnIncrement => ({
  segmentId: 'seg_a',
  day: DAY,
  partition: 0,
  expectedMark: undefined,
  mark: 0,
  entered: 1,
  exited: 0,
  ...fields,
});

/**
 * What every churn repository guarantees, run against the in-memory fake (unit tests) and the
 * MongoDB repository (integration tests on the real store), so the conditional counting the
 * service is tested with over the fake holds on the store.
 */
export function churnRepositoryContract(repository: () => Promise<ChurnRepositoryPort>) {
  let store: ChurnRepositoryPort;
  beforeEach(async () => {
    store = await repository();
  });

  const figures = async (segmentId: string, days = [DAY]) =>
    (await store.find(segmentId, days)).map((d) => [d.day, d.entered, d.exited, d.counted]);

  it('creates, adds to and marks several (segment, day) documents in one call', async () => {
    expect(
      await store.addAll([
        increment({ mark: 3, entered: 2, exited: 1 }),
        increment({ partition: 1, mark: 9, entered: 1 }),
        increment({ segmentId: 'seg_b', day: '2026-11-21', mark: 4, entered: 0, exited: 2 }),
      ]),
    ).toBe(true);
    expect(
      await store.addAll([increment({ expectedMark: 3, mark: 5, entered: 0, exited: 1 })]),
    ).toBe(true);
    expect(await figures('seg_a')).toEqual([[DAY, 3, 2, { '0': 5, '1': 9 }]]);
    expect(await figures('seg_b', ['2026-11-20', '2026-11-21'])).toEqual([
      ['2026-11-21', 0, 2, { '0': 4 }],
    ]);
  });

  it('refuses an increment whose mark moved, and still applies the others of the call', async () => {
    await store.addAll([increment({ mark: 3 }), increment({ segmentId: 'seg_b', mark: 3 })]);
    expect(
      await store.addAll([
        increment({ expectedMark: 2, mark: 4 }), // another writer moved it to 3
        increment({ segmentId: 'seg_b', expectedMark: 3, mark: 4 }),
        increment({ segmentId: 'seg_c', mark: 4 }),
      ]),
    ).toBe(false);
    expect(await figures('seg_a')).toEqual([[DAY, 1, 0, { '0': 3 }]]);
    expect(await figures('seg_b')).toEqual([[DAY, 2, 0, { '0': 4 }]]);
    expect(await figures('seg_c')).toEqual([[DAY, 1, 0, { '0': 4 }]]);
  });

  it('refuses a first count of a partition that another writer counted meanwhile', async () => {
    await store.addAll([increment({ mark: 3 })]);
    expect(await store.addAll([increment({ mark: 7, entered: 5 })])).toBe(false);
    expect(await store.addAll([increment({ segmentId: 'seg_b', expectedMark: 1, mark: 2 })])).toBe(
      false,
    );
    expect(await figures('seg_a')).toEqual([[DAY, 1, 0, { '0': 3 }]]);
    expect(await figures('seg_b')).toEqual([]);
  });

  it('accepts an empty call', async () => {
    expect(await store.addAll([])).toBe(true);
  });
}
