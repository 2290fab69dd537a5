import type { JsonValue } from '@bufbuild/protobuf';
import { type CsvColumn, CsvColumnKind, IdentityKind, type Profile } from '@shoal/contracts';
import { stringify } from 'csv-stringify/sync';

/** What a spreadsheet would run as a formula when a cell starts with it (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Joins several values in one cell (a profile with two user ids). */
const VALUE_SEPARATOR = '|';

/**
 * A cell a spreadsheet shows as text: one starting with =, +, -, @, tab or carriage return is
 * prefixed with a single quote, so it is never evaluated as a formula. Values such as "-5"
 * therefore arrive as "'-5".
 */
export function neutralised(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** The columns of an export; none asked for means profile id and user id. */
export function effectiveColumns(columns: readonly CsvColumn[]): readonly CsvColumn[] {
  if (columns.length > 0) return columns;
  return [
    { kind: CsvColumnKind.PROFILE_ID, trait: '', header: '' },
    { kind: CsvColumnKind.USER_ID, trait: '', header: '' },
  ] as CsvColumn[];
}

export function headerOf(column: CsvColumn): string {
  if (column.header) return column.header;
  switch (column.kind) {
    case CsvColumnKind.PROFILE_ID:
      return 'profile_id';
    case CsvColumnKind.USER_ID:
      return 'user_id';
    case CsvColumnKind.ANONYMOUS_ID:
      return 'anonymous_id';
    case CsvColumnKind.IDENTITY_TRAIT:
    case CsvColumnKind.TRAIT:
      return column.trait;
    case CsvColumnKind.UNSPECIFIED:
      return '';
  }
}

/** One column's value for one profile, before neutralising. */
export function valueOf(column: CsvColumn, profile: Profile): string {
  const identities = (kind: IdentityKind, trait?: string) =>
    profile.identities
      .filter((i) => i.kind === kind && (trait === undefined || i.trait === trait))
      .map((i) => i.value)
      .join(VALUE_SEPARATOR);
  switch (column.kind) {
    case CsvColumnKind.PROFILE_ID:
      return profile.id;
    case CsvColumnKind.USER_ID:
      return identities(IdentityKind.USER_ID);
    case CsvColumnKind.ANONYMOUS_ID:
      return identities(IdentityKind.ANONYMOUS_ID);
    case CsvColumnKind.IDENTITY_TRAIT:
      return identities(IdentityKind.TRAIT, column.trait);
    case CsvColumnKind.TRAIT:
      return traitText(traitAt(profile.traits, column.trait));
    case CsvColumnKind.UNSPECIFIED:
      return '';
  }
}

/** The value at a dotted path ("address.city"); undefined when any step is missing. */
export function traitAt(traits: Profile['traits'], path: string): JsonValue | undefined {
  let node: JsonValue | undefined = traits ?? undefined;
  for (const step of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, JsonValue>)[step];
  }
  return node;
}

function traitText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const CSV_OPTIONS = { record_delimiter: 'windows', eof: true } as const;

/** The header row, RFC 4180 (CRLF-terminated, quoted where needed). */
export function headerRow(columns: readonly CsvColumn[]): string {
  return stringify([columns.map((c) => neutralised(headerOf(c)))], CSV_OPTIONS);
}

/** The rows of some profiles, RFC 4180. */
export function memberRows(columns: readonly CsvColumn[], profiles: readonly Profile[]): string {
  return stringify(
    profiles.map((profile) => columns.map((c) => neutralised(valueOf(c, profile)))),
    CSV_OPTIONS,
  );
}
