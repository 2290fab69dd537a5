import { create } from '@bufbuild/protobuf';
import { type CsvColumn, CsvColumnKind, CsvColumnSchema } from '@shoal/contracts';
import { ErrorKind, type FieldViolation } from '@shoal/platform';
import { CsvExportError } from './csv.errors';

/** The download's path: /segments/{id}/members.csv */
const DOWNLOAD_PATH = /^\/segments\/([^/]+)\/members\.csv$/;

const ORIGIN = 'http://download';

/**
 * A request target as a URL on this server: always read as a path (with its query), so "//[" is
 * the path "//[" rather than a URL with a bad host; undefined for a target that is no path.
 */
export function requestUrl(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/') || !URL.canParse(`${ORIGIN}${target}`)) return undefined;
  return new URL(`${ORIGIN}${target}`);
}

/** The segment id a download path names, or undefined for any other path. */
export function downloadSegmentId(path: string): string | undefined {
  const match = DOWNLOAD_PATH.exec(path);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

const SIMPLE_COLUMNS: Record<string, CsvColumnKind> = {
  profile_id: CsvColumnKind.PROFILE_ID,
  user_id: CsvColumnKind.USER_ID,
  anonymous_id: CsvColumnKind.ANONYMOUS_ID,
};

/**
 * Columns of a download from its query: `columns=profile_id,user_id,identity:email,trait:plan`
 * (identity:<identifier trait>, trait:<dotted path>); absent means the default columns.
 */
export function columnsFromQuery(query: URLSearchParams): CsvColumn[] {
  const raw = query.get('columns');
  if (raw === null || raw === '') return [];
  const violations: FieldViolation[] = [];
  const columns = raw.split(',').flatMap((spec, index) => {
    const simple = SIMPLE_COLUMNS[spec];
    if (simple !== undefined) return [create(CsvColumnSchema, { kind: simple })];
    const [prefix, ...rest] = spec.split(':');
    const trait = rest.join(':');
    if (prefix === 'trait' && trait)
      return [create(CsvColumnSchema, { kind: CsvColumnKind.TRAIT, trait })];
    if (prefix === 'identity' && trait)
      return [create(CsvColumnSchema, { kind: CsvColumnKind.IDENTITY_TRAIT, trait })];
    violations.push({
      field: `columns[${index}]`,
      description: `"${spec.slice(0, 100)}" is not profile_id, user_id, anonymous_id, identity:<trait> or trait:<path>`,
    });
    return [];
  });
  if (violations.length > 0) throw CsvExportError.invalid(violations);
  return columns;
}

const HTTP_STATUS_OF_KIND: Record<ErrorKind, number> = {
  [ErrorKind.InvalidArgument]: 400,
  [ErrorKind.NotFound]: 404,
  [ErrorKind.AlreadyExists]: 409,
  [ErrorKind.FailedPrecondition]: 412,
  [ErrorKind.Aborted]: 409,
  [ErrorKind.PermissionDenied]: 403,
  [ErrorKind.Unauthenticated]: 401,
  [ErrorKind.ResourceExhausted]: 429,
  [ErrorKind.Unavailable]: 503,
  [ErrorKind.Internal]: 500,
};

/** The HTTP status a refusal of a download answers with. */
export function httpStatusOf(kind: ErrorKind): number {
  return HTTP_STATUS_OF_KIND[kind];
}
