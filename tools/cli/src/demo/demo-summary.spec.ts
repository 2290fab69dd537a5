import { pushRecent, renderBoard } from './demo-summary';

describe('the demo summary', () => {
  it('shows each segment’s size, its change since the start and its entered / exited counts', () => {
    const lines = renderBoard({
      elapsedMs: 12_400,
      eventsSent: 700,
      deadLettered: 1,
      rows: [
        { id: 'a', name: 'Loyal but lapsed', members: 30, firstCount: 36, entered: 2, exited: 8 },
        { id: 'b', name: 'Readers', members: 5, firstCount: 0, entered: 5, exited: 0 },
        { id: 'c', name: 'VIP', entered: 0, exited: 0 },
      ],
      recent: ['entered  Readers  user:demo-0003'],
    });
    expect(lines).toEqual([
      '12 s: 700 events sent upstream, 1 malformed dead-lettered',
      'SEGMENT           MEMBERS  CHANGE  ENTERED  EXITED',
      'Loyal but lapsed  30       -6      2        8',
      'Readers           5        +5      5        0',
      'VIP               …                0        0',
      '',
      'latest entered / exited:',
      '  entered  Readers  user:demo-0003',
    ]);
  });

  it('says it is waiting until the first transition arrives', () => {
    const lines = renderBoard({
      elapsedMs: 0,
      eventsSent: 0,
      deadLettered: 0,
      rows: [],
      recent: [],
    });
    expect(lines.at(-1)).toBe('waiting for entered / exited events…');
  });

  it('shows what the supervisor restarted under its first line', () => {
    const lines = renderBoard({
      elapsedMs: 60_000,
      eventsSent: 10,
      deadLettered: 0,
      rows: [],
      recent: [],
      supervision: ['supervisor: membership exited, restarted 1× (last 4 s ago)'],
    });
    expect(lines.slice(0, 2)).toEqual([
      '60 s: 10 events sent upstream',
      'supervisor: membership exited, restarted 1× (last 4 s ago)',
    ]);
  });

  it('keeps only the latest eight transitions', () => {
    const recent: string[] = [];
    for (let i = 1; i <= 10; i += 1) pushRecent(recent, `t${i}`);
    expect(recent).toEqual(['t3', 't4', 't5', 't6', 't7', 't8', 't9', 't10']);
  });
});
