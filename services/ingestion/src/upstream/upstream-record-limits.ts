import type { Violations } from '@shoal/platform';

/**
 * What free-form objects in an upstream event (traits, properties, context) may hold. They
 * become stored documents and protobuf Structs that clients decode, so their field names must
 * be storable and their size and nesting bounded.
 */
export interface UpstreamLimits {
  /** Deepest nesting of objects and arrays, the free-form object itself counting as one. */
  readonly maxDepth: number;
  /** Most field names in one event's free-form objects together, nested ones included. */
  readonly maxKeys: number;
  readonly maxKeyLength: number;
  readonly maxStringLength: number;
}

/**
 * The largest INGEST_MAX_DEPTH allowed. protobuf-es decodes at most 100 nested messages; a
 * google.protobuf.Struct costs two per JSON level (Struct, Value), and GetProfileResponse →
 * Profile two more, so a profile read back decodes up to depth 49 (measured in
 * upstream-record-limits.spec.ts). 40 leaves room for a profile inside deeper messages.
 */
export const MAX_CONFIGURABLE_DEPTH = 40;

/** Enough to say what is wrong with a record without building an unbounded message. */
const MAX_REPORTED = 20;

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** Characters that make a name ambiguous or invisible in a dotted path. */
const NOT_PLAIN = /[.[\]"]|\p{Cc}|[\uD800-\uDFFF]/u;

/**
 * Checks an event's free-form objects against the limits, adding a violation (field path and
 * what is wrong) for each problem found, up to a bounded number. Never descends deeper than
 * the limit, so arbitrarily deep input costs nothing extra.
 */
export function checkFreeForm(
  objects: readonly (readonly [path: string, value: unknown])[],
  limits: UpstreamLimits,
  v: Violations,
): void {
  const walk = new FreeFormWalk(limits, v);
  for (const [path, value] of objects) {
    if (value !== undefined && value !== null) walk.container(value, path, 1);
  }
}

class FreeFormWalk {
  private keys = 0;
  private reported = 0;

  constructor(
    private readonly limits: UpstreamLimits,
    private readonly v: Violations,
  ) {}

  container(value: unknown, path: string, depth: number): void {
    if (this.full) return;
    if (depth > this.limits.maxDepth) {
      this.report(path, `nests deeper than ${this.limits.maxDepth} levels (INGEST_MAX_DEPTH)`);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => this.value(item, `${path}[${index}]`, depth));
      return;
    }
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      if (this.full) return;
      if (++this.keys > this.limits.maxKeys) {
        this.report(
          path,
          `has more than ${this.limits.maxKeys} fields in one event (INGEST_MAX_KEYS)`,
        );
        this.reported = MAX_REPORTED;
        return;
      }
      const itemPath = childPath(path, name);
      const problem = this.nameProblem(name);
      if (problem) this.report(itemPath, problem);
      this.value(item, itemPath, depth);
    }
  }

  private value(value: unknown, path: string, depth: number): void {
    if (this.full) return;
    if (typeof value === 'object' && value !== null) this.container(value, path, depth + 1);
    else if (typeof value === 'string' && value.length > this.limits.maxStringLength) {
      this.report(
        path,
        `is longer than ${this.limits.maxStringLength} characters (INGEST_MAX_STRING_LENGTH)`,
      );
    } else if (typeof value === 'number' && !Number.isFinite(value)) {
      this.report(path, 'must be a finite number');
    }
  }

  private nameProblem(name: string): string | undefined {
    if (name === '') return 'field name is empty';
    if (name.includes('\u0000')) return 'field name contains a NUL character';
    if (name.startsWith('$')) return 'field name starts with "$"';
    if (name.includes('.')) return 'field name contains "."';
    if (LONE_SURROGATE.test(name)) return 'field name is not valid Unicode (a lone surrogate)';
    if (name.length > this.limits.maxKeyLength)
      return `field name is longer than ${this.limits.maxKeyLength} characters (INGEST_MAX_KEY_LENGTH)`;
    return undefined;
  }

  private report(path: string, description: string): void {
    this.v.add(path, description);
    this.reported++;
  }

  private get full(): boolean {
    return this.reported >= MAX_REPORTED;
  }
}

/** `traits.plan`, or `traits["a.b"]` when the name would be ambiguous or invisible in a path. */
export function childPath(path: string, name: string): string {
  const bounded = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return name !== '' && !name.startsWith('$') && !NOT_PLAIN.test(name)
    ? `${path}.${bounded}`
    : `${path}[${JSON.stringify(bounded)}]`;
}
