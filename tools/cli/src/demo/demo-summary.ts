import { formatTable } from '../api/format';

/** One segment or list on the demo's board. */
export interface BoardRow {
  readonly id: string;
  readonly name: string;
  /** Members now; undefined until the first count arrives. */
  readonly members?: number;
  /** Members when the demo started counting. */
  readonly firstCount?: number;
  readonly entered: number;
  readonly exited: number;
}

/** What the live summary shows. */
export interface DemoBoard {
  readonly elapsedMs: number;
  readonly eventsSent: number;
  readonly rows: readonly BoardRow[];
  /** The latest transitions, newest last, as `entered  Loyal but lapsed  user:demo-0004`. */
  readonly recent: readonly string[];
  readonly deadLettered: number;
  /** What the supervisor did (ServiceSupervisor.summary) and what could not be refreshed, under the first line. */
  readonly supervision?: readonly string[];
}

const MAX_RECENT = 8;

/** The board as lines: sizes and their change, entered / exited counts, the latest events. */
export function renderBoard(board: DemoBoard): string[] {
  const seconds = Math.round(board.elapsedMs / 1000);
  const table = formatTable([
    ['SEGMENT', 'MEMBERS', 'CHANGE', 'ENTERED', 'EXITED'],
    ...board.rows.map((row) => [
      row.name,
      row.members === undefined ? '…' : String(row.members),
      change(row),
      String(row.entered),
      String(row.exited),
    ]),
  ]);
  return [
    `${seconds} s: ${board.eventsSent} events sent upstream` +
      (board.deadLettered > 0 ? `, ${board.deadLettered} malformed dead-lettered` : ''),
    ...(board.supervision ?? []),
    ...table.trimEnd().split('\n'),
    '',
    board.recent.length > 0 ? 'latest entered / exited:' : 'waiting for entered / exited events…',
    ...board.recent.slice(-MAX_RECENT).map((line) => `  ${line}`),
  ];
}

function change(row: BoardRow): string {
  if (row.members === undefined || row.firstCount === undefined) return '';
  const delta = row.members - row.firstCount;
  return delta === 0 ? '0' : delta > 0 ? `+${delta}` : String(delta);
}

/** Keeps the last `MAX_RECENT` lines. */
export function pushRecent(recent: string[], line: string): void {
  recent.push(line);
  if (recent.length > MAX_RECENT) recent.splice(0, recent.length - MAX_RECENT);
}
