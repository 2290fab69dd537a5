/** The longest member id the segments service accepts. */
export const MAX_MEMBER_ID_LENGTH = 256;
/** Ids per AddListMembers call: well inside the message limit, and a visible step of progress. */
export const UPLOAD_BATCH_SIZE = 5_000;
/** First cells that name the column rather than hold an id. */
const HEADERS = new Set(['id', 'ids', 'profile_id', 'member_id', 'user_id', 'account_id']);

/** A row of the file that gives no id, and why (rows count from 1, as an editor shows them). */
export interface RowError {
  readonly row: number;
  readonly message: string;
}

/** One id and the row it came from, so the service's refusals can name the row. */
export interface RowId {
  readonly row: number;
  readonly id: string;
}

/**
 * Reads a CSV of ids chunk by chunk as the browser reads the file: the first column of each
 * row (quoted or not), a header row skipped, blank rows ignored, ids repeated in the file sent
 * once. A row split between two chunks is completed by the next; `end` reads the last row.
 */
export class IdCsvReader {
  private rest = '';
  private row = 0;
  private readonly seen = new Set<string>();

  /** The ids completed by this chunk, and the rows refused. */
  push(chunk: string): { ids: RowId[]; errors: RowError[] } {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return this.read(lines);
  }

  end(): { ids: RowId[]; errors: RowError[] } {
    const last = this.rest;
    this.rest = '';
    return this.read(last === '' ? [] : [last]);
  }

  private read(lines: readonly string[]): { ids: RowId[]; errors: RowError[] } {
    const ids: RowId[] = [];
    const errors: RowError[] = [];
    for (const raw of lines) {
      this.row += 1;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const cell = firstCell(line);
      if (cell === undefined) {
        errors.push({ row: this.row, message: 'an unterminated quote' });
        continue;
      }
      const id = cell.trim();
      if (id === '') continue;
      if (this.row === 1 && HEADERS.has(id.toLowerCase())) continue;
      if (id.length > MAX_MEMBER_ID_LENGTH) {
        errors.push({
          row: this.row,
          message: `the id is ${id.length} characters; at most ${MAX_MEMBER_ID_LENGTH}`,
        });
        continue;
      }
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      ids.push({ row: this.row, id });
    }
    return { ids, errors };
  }
}

/** The first cell of a CSV line (RFC 4180 quoting); undefined when a quote is not closed. */
function firstCell(line: string): string | undefined {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma < 0 ? line : line.slice(0, comma);
  }
  let cell = '';
  for (let i = 1; i < line.length; i++) {
    const c = line[i];
    if (c !== '"') cell += c;
    else if (line[i + 1] === '"') {
      cell += '"';
      i += 1;
    } else return cell;
  }
  return undefined;
}

/**
 * The rows the service refused in a batch it sent back with field violations
 * (`memberIds[i]` / `member_ids[i]`); undefined when the refusal names no single id.
 */
export function refusedRows(
  batch: readonly RowId[],
  violations: readonly { field: string; description: string }[],
): RowError[] | undefined {
  const rows: RowError[] = [];
  for (const violation of violations) {
    const match = /^(?:memberIds|member_ids)\[(\d+)\]$/.exec(violation.field);
    const entry = match ? batch[Number(match[1])] : undefined;
    if (!entry) return undefined;
    rows.push({ row: entry.row, message: violation.description });
  }
  return rows.length > 0 ? rows : undefined;
}
