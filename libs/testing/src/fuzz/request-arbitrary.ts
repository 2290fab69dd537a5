import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type MessageInitShape,
  ScalarType,
} from '@bufbuild/protobuf';
import fc from 'fast-check';

export interface RequestArbitraryOptions {
  /** Strings worth trying besides generated ones: ids that exist, names in use, … */
  readonly strings?: readonly string[];
  /** Every top-level field present, strings and bytes huge (see requestArbitrary). */
  readonly huge?: boolean;
  /** No huge values at all: for the items of long lists. */
  readonly small?: boolean;
  /** How deep ordinary message nesting goes (deeper structures come from deepValue). */
  readonly maxDepth?: number;
}

/** Strings that have broken services before: operators, prototype keys, separators, controls. */
const ODD_STRINGS = [
  '',
  ' ',
  '$gt',
  '$where',
  '$regex',
  '{"$ne":null}',
  '__proto__',
  'constructor',
  'toString',
  '.',
  '..',
  'a.b.c',
  'user:',
  'service:membership',
  '\u0000',
  'a\u0000b',
  '\uFFFF',
  '\uD83D',
  '😀👩‍👩‍👧',
  'é'.normalize('NFD'),
  "'; DROP TABLE profiles; --",
  '%00%2e%2e%2f',
  '\r\nX-Injected: 1',
  '*',
  '.*',
] as const;

/** Lengths that cross trailer, index and message limits. */
const HUGE_LENGTHS = [9_000, 70_000, 300_000, 1_100_000] as const;

function hugeString(): fc.Arbitrary<string> {
  // '😀' is four bytes: a million of them passes the 4 MiB message limit
  return fc
    .tuple(fc.constantFrom(...HUGE_LENGTHS), fc.constantFrom('x', 'é', '$', '😀'))
    .map(([length, unit]) => unit.repeat(length));
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const UINT32 = { min: 0, max: 2 ** 32 - 1 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const UINT64 = { min: 0n, max: 2n ** 64n - 1n };

function stringArbitrary(options: RequestArbitraryOptions): fc.Arbitrary<string> {
  if (options.huge) return hugeString();
  return fc.oneof(
    ...(options.small ? [] : [{ weight: 1, arbitrary: hugeString() }]),
    { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
    ...(options.strings?.length
      ? [{ weight: 4, arbitrary: fc.constantFrom(...options.strings) }]
      : []),
  );
}

function scalarArbitrary(
  scalar: ScalarType,
  options: RequestArbitraryOptions,
): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return stringArbitrary(options);
    case ScalarType.BYTES: {
      const huge = fc.constantFrom(...HUGE_LENGTHS).map((n) => new Uint8Array(n).fill(0xff));
      if (options.huge) return huge;
      const small = fc.uint8Array({ maxLength: 64 });
      return options.small ? small : fc.oneof(small, huge);
    }
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.constantFrom(0, -1, 1, INT32.min, INT32.max), fc.integer(INT32));
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constantFrom(0, 1, UINT32.max), fc.integer(UINT32));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(fc.constantFrom(0n, -1n, INT64.min, INT64.max), fc.bigInt(INT64));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.constantFrom(0n, 1n, UINT64.max), fc.bigInt(UINT64));
  }
}

/** Declared values, and numbers no version of the enum has. */
function enumArbitrary(descriptor: DescEnum): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...descriptor.values.map((v) => v.number)) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(-1, 9_999), fc.integer(INT32)) },
  );
}

/** A google.protobuf.Value nested `depth` levels deep, alternating lists and structs. */
function deepValue(depth: number, key = 'a'): MessageInitShape<DescMessage> {
  let value: Record<string, unknown> = { kind: { case: 'stringValue', value: 'bottom' } };
  for (let level = 0; level < depth; level++) {
    value =
      level % 2 === 0
        ? { kind: { case: 'listValue', value: { values: [value] } } }
        : { kind: { case: 'structValue', value: { fields: { [key]: value } } } };
  }
  return value;
}

/**
 * Arbitrary requests of a message type: half of them as messageArbitrary makes them, half with
 * every string and bytes field huge, the values that most often break a service's answers.
 */
export function requestArbitrary(
  descriptor: DescMessage,
  options: Omit<RequestArbitraryOptions, 'huge'> = {},
): fc.Arbitrary<MessageInitShape<DescMessage>> {
  return fc.oneof(
    messageArbitrary(descriptor, options),
    messageArbitrary(descriptor, { ...options, huge: true }),
  );
}

/**
 * Arbitrary init values of a message: every field present or not, with values valid and
 * invalid for the service (empty, huge, odd strings; extreme numbers; unknown enum numbers;
 * nested and very deep Struct values). Requests are still well-formed protobuf: raw bytes are
 * the harness's other case.
 */
export function messageArbitrary(
  descriptor: DescMessage,
  options: RequestArbitraryOptions = {},
  depth = 0,
): fc.Arbitrary<MessageInitShape<DescMessage>> {
  const maxDepth = options.maxDepth ?? 4;
  if (depth > maxDepth) return fc.constant({});
  const plain = descriptor.fields.filter((f) => !f.oneof);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of plain) model[field.localName] = fieldArbitrary(field, options, depth);
  for (const oneof of descriptor.oneofs) {
    model[oneof.localName] = fc.oneof(
      ...oneof.fields.map((field) =>
        valueArbitrary(field, options, depth).map((value) => ({ case: field.localName, value })),
      ),
    );
  }
  const generic = fc.record(model, {
    requiredKeys: options.huge ? Object.keys(model) : [],
  }) as fc.Arbitrary<MessageInitShape<DescMessage>>;
  const deep = deepArbitrary(descriptor.typeName);
  return deep
    ? fc.oneof({ weight: 4, arbitrary: generic }, { weight: 1, arbitrary: deep })
    : generic;
}

/** Struct values nested hundreds of levels deep, for the Struct types. */
function deepArbitrary(typeName: string): fc.Arbitrary<MessageInitShape<DescMessage>> | undefined {
  const deep = fc
    .tuple(fc.integer({ min: 50, max: 300 }), fc.constantFrom('a', '$where', '__proto__', ''))
    .map(([levels, key]) => deepValue(levels, key));
  switch (typeName) {
    case 'google.protobuf.Value':
      return deep;
    case 'google.protobuf.ListValue':
      return deep.map((value) => ({ values: [value] }));
    case 'google.protobuf.Struct':
      return deep.map((value) => ({ fields: { nested: value } }));
    default:
      return undefined;
  }
}

function fieldArbitrary(
  field: DescField,
  options: RequestArbitraryOptions,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case 'list': {
      const item = (itemOptions: RequestArbitraryOptions) =>
        field.listKind === 'scalar'
          ? scalarArbitrary(field.scalar, itemOptions)
          : field.listKind === 'enum'
            ? enumArbitrary(field.enum)
            : messageArbitrary(field.message, nested(itemOptions), depth + 1);
      const few = fc.array(item(options), { maxLength: options.huge ? 2 : 4 });
      if (field.listKind === 'message') return few;
      // many small items, the way a batch call is abused
      const many = fc.array(item({ ...options, huge: false, small: true }), {
        minLength: 1_000,
        maxLength: 1_200,
      });
      return fc.oneof({ weight: 8, arbitrary: few }, { weight: 1, arbitrary: many });
    }
    case 'map': {
      const key = scalarArbitrary(field.mapKey, options).map(String);
      const value =
        field.mapKind === 'scalar'
          ? scalarArbitrary(field.scalar, options)
          : field.mapKind === 'enum'
            ? enumArbitrary(field.enum)
            : messageArbitrary(field.message, nested(options), depth + 1);
      // fromEntries, so that a "__proto__" key is a key like any other
      return fc
        .array(fc.tuple(key, value), { maxLength: 4 })
        .map((entries) => Object.fromEntries(entries));
    }
    default:
      return valueArbitrary(field, options, depth);
  }
}

function valueArbitrary(
  field: DescField,
  options: RequestArbitraryOptions,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarArbitrary(field.scalar, options);
    case 'enum':
      return enumArbitrary(field.enum);
    case 'message':
      return messageArbitrary(field.message, nested(options), depth + 1);
    default:
      return fieldArbitrary(field, options, depth);
  }
}

/** Options for a nested message: huge values only ever at the top level, so requests stay sendable. */
function nested(options: RequestArbitraryOptions): RequestArbitraryOptions {
  return options.huge ? { ...options, huge: false } : options;
}
