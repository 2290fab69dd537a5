import { hopBreakdown, percentiles } from './measures';

describe('percentiles', () => {
  it('takes the nearest rank, and NaN for no values', () => {
    expect(percentiles([5, 1, 3, 2, 4], [50, 99])).toEqual({ p50: 3, p99: 5 });
    expect(percentiles([], [50])).toEqual({ p50: NaN });
  });
});

describe('hopBreakdown', () => {
  const trip = (sent: number, ingestion: number, membership: number, delivery: number) => ({
    sent,
    changed: sent + ingestion,
    decided: sent + ingestion + membership,
    arrived: sent + ingestion + membership + delivery,
  });

  it('splits every probe into its hops', () => {
    const trips = Array.from({ length: 100 }, (_, i) => trip(i * 10, 5, 10 + (i % 2), 2));
    const b = hopBreakdown(trips);
    expect(b.probes).toBe(100);
    expect(b.hopsMs.ingestion).toEqual({ p50: 5, p99: 5 });
    expect(b.hopsMs.membership).toEqual({ p50: 10, p99: 11 });
    expect(b.hopsMs.delivery).toEqual({ p50: 2, p99: 2 });
  });

  it('names the hop the slowest probes spent their time in', () => {
    // 198 quick probes; the two slowest waited in membership, not in ingestion
    const trips = [
      ...Array.from({ length: 198 }, (_, i) => trip(i, 20, 5, 1)),
      trip(1_000, 20, 400, 1),
      trip(2_000, 25, 300, 1),
    ];
    const b = hopBreakdown(trips);
    expect(b.slowestMs.membership).toBe(300);
    expect(b.slowestMs.ingestion).toBe(20);
    expect(b.slowestMs.delivery).toBe(1);
  });
});
