import { toJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema, type Value } from '@bufbuild/protobuf/wkt';
import {
  bucketStart,
  daysInMonth,
  dayIndexFromCivil,
  instantFromWall,
  utcMs,
  type CivilDate,
} from '../time/windows';

// JSON values as they appear in traits and event properties, and the operands of rules.

export function valueToJson(value: Value | undefined): JsonValue {
  return value === undefined ? null : toJson(ValueSchema, value);
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted: equal values give equal strings. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] ?? null)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The segments of a dotted path; undefined when a segment is empty. */
export function pathSegments(path: string): string[] | undefined {
  const segments = path.split('.');
  return path !== '' && segments.every((segment) => segment !== '') ? segments : undefined;
}

const INDEX = /^(0|[1-9]\d*)$/;

/**
 * The value at a dotted path. A numeric segment indexes an array; any other segment applied to
 * an array is applied to every element and the results are collected (flattening arrays), so
 * `products.category` yields every product's category. Missing gives undefined, and so does a
 * collection that found nothing.
 */
export function resolvePath(root: JsonValue, path: string): JsonValue | undefined {
  return resolveSegments(root, pathSegments(path));
}

/** resolvePath for a path split once by pathSegments (undefined, an invalid path, finds nothing). */
export function resolveSegments(
  root: JsonValue,
  segments: readonly string[] | undefined,
): JsonValue | undefined {
  return segments === undefined ? undefined : resolveFrom(root, segments, 0);
}

function resolveFrom(
  value: JsonValue,
  segments: readonly string[],
  at: number,
): JsonValue | undefined {
  if (at === segments.length) return value;
  const segment = segments[at] as string;
  if (Array.isArray(value)) {
    if (INDEX.test(segment)) {
      const element = value[Number(segment)];
      return element === undefined ? undefined : resolveFrom(element, segments, at + 1);
    }
    const collected: JsonValue[] = [];
    for (const element of value) {
      const found = resolveFrom(element, segments, at);
      if (found === undefined) continue;
      if (Array.isArray(found)) collected.push(...found);
      else collected.push(found);
    }
    return collected.length === 0 ? undefined : collected;
  }
  if (isJsonObject(value) && Object.prototype.hasOwnProperty.call(value, segment)) {
    return resolveFrom(value[segment] as JsonValue, segments, at + 1);
  }
  return undefined;
}

/** The elements a field operator is applied to: an array's elements, or the value itself. */
export function elementsOf(value: JsonValue | undefined): readonly JsonValue[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** A "YYYY-MM-DD" calendar date, or undefined when the string is not a real date. */
export function parseCivilDate(text: string): CivilDate | undefined {
  const match = DATE.exec(text);
  if (match === null) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isRealDate(date) ? date : undefined;
}

function isRealDate({ year, month, day }: CivilDate): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** The instant at which a calendar date starts in a zone. */
export function startOfCivilDate(date: CivilDate, timeZone: string): number {
  return bucketStart('day', dayIndexFromCivil(date), timeZone);
}

/**
 * Reads an instant from a trait or property value: a number of milliseconds since the epoch,
 * or an ISO 8601 string. A date-only string is the start of that day in `timeZone`; a
 * date-time without an offset is a wall-clock time in `timeZone`. Anything else is not an instant.
 */
export function parseInstant(value: JsonValue | undefined, timeZone: string): number | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value) && Math.abs(value) < 8.64e15 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const date = parseCivilDate(value);
  if (date !== undefined) return startOfCivilDate(date, timeZone);
  const match = DATE_TIME.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((index) => Number(match[index]));
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const fraction = match[7] === undefined ? 0 : Math.floor(Number(`0.${match[7]}`) * 1000);
  const civil = { year: year as number, month: month as number, day: day as number };
  if (!isRealDate(civil) || (hour as number) > 23 || (minute as number) > 59 || second > 59) {
    return undefined;
  }
  const wall = utcMs(civil.year, civil.month, civil.day, hour, minute, second, fraction);
  const zone = match[8];
  if (zone === undefined) return instantFromWall(timeZone, wall);
  if (zone === 'Z' || zone === 'z') return wall;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
  return wall - sign * offset;
}

/** ISO 8601 text of an instant, for explanations. */
export function formatInstant(instant: number): string {
  return Number.isFinite(instant) && Math.abs(instant) < 8.64e15
    ? new Date(instant).toISOString()
    : String(instant);
}
