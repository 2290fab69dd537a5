import { toJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema, type Value } from '@bufbuild/protobuf/wkt';

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

/** ISO 8601 text of an instant, for explanations. */
export function formatInstant(instant: number): string {
  return Number.isFinite(instant) && Math.abs(instant) < 8.64e15
    ? new Date(instant).toISOString()
    : String(instant);
}
