import { PartitionProgress } from './partition-progress';

class TestClock {
  private at = Date.parse('2026-12-01T10:00:00Z');
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

describe('partition progress', () => {
  const setup = () => {
    const clock = new TestClock();
    const changes: [number, boolean][] = [];
    const progress = new PartitionProgress(clock, 60_000, (p, stalled) =>
      changes.push([p, stalled]),
    );
    return { clock, changes, progress };
  };

  it('stalls a partition whose work makes no progress for longer than the bound, with its last error', () => {
    const { clock, changes, progress } = setup();
    progress.begin(2);
    clock.advance(30_000);
    progress.failed(2, 'MongoServerSelectionError: connect ECONNREFUSED');
    expect(progress.check()).toEqual([]);
    clock.advance(30_001);
    expect(progress.check()).toEqual([
      {
        partition: 2,
        stalledForMs: 60_001,
        lastError: 'MongoServerSelectionError: connect ECONNREFUSED',
      },
    ]);
    expect(changes).toEqual([[2, true]]);
  });

  it('recovers when the partition makes progress, and reports each change once', () => {
    const { clock, changes, progress } = setup();
    progress.begin(0);
    clock.advance(90_000);
    progress.check();
    progress.check();
    progress.progressed(0);
    expect(progress.check()).toEqual([]);
    expect(changes).toEqual([
      [0, true],
      [0, false],
    ]);
  });

  it('times a partition from when its work began, not from its last failure', () => {
    const { clock, progress } = setup();
    progress.begin(1);
    clock.advance(50_000);
    progress.begin(1);
    clock.advance(20_000);
    expect(progress.check().map((s) => [s.partition, s.lastError])).toEqual([[1, undefined]]);
  });

  it('forgets a partition that has no work in hand', () => {
    const { clock, changes, progress } = setup();
    progress.begin(4);
    clock.advance(90_000);
    progress.check();
    progress.end(4);
    clock.advance(90_000);
    expect(progress.check()).toEqual([]);
    expect(changes).toEqual([
      [4, true],
      [4, false],
    ]);
  });
});
