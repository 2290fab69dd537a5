import {
  clone,
  create,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type MessageInitShape,
  ScalarType,
} from '@bufbuild/protobuf';
import fc from 'fast-check';

/**
 * Values a service accepts, so that requests get past its checks into the use cases: ids that
 * exist with versions they are at, valid rules, page tokens it minted. Mixed with arbitrary ones.
 */
export interface KnownValues {
  /**
   * Values of fields, by full name (`shoal.v1.RenameSegmentRequest.name`) or, for every message
   * with such a field, by name (`expected_version`): a list field's value is an array.
   */
  readonly fields?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** Well-formed values of message types, by full type name (`shoal.v1.Rule`). */
  readonly messages?: Readonly<Record<string, fc.Arbitrary<MessageInitShape<DescMessage>>>>;
}

export interface RequestArbitraryOptions {
  /** Strings worth trying besides generated ones: ids that exist, names in use, … */
  readonly strings?: readonly string[];
  /** Every top-level field present, strings and bytes huge (see requestArbitrary). */
  readonly huge?: boolean;
  /** No huge values at all: for the items of long lists. */
  readonly small?: boolean;
  /** How deep ordinary message nesting goes (deeper structures come from deepValue). */
  readonly maxDepth?: number;
  /** Values the service accepts, mixed in with arbitrary ones (see KnownValues). */
  readonly known?: KnownValues;
  /** Every field with a known value present, and mostly that value (see requestArbitrary). */
  readonly wellFormed?: boolean;
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
const SMALL = { min: 1, max: 64 };
const SMALL_BIG = { min: 1n, max: 64n };

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
    // small counts, sizes and versions are what services accept; extremes what breaks them
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(
        fc.constantFrom(0, -1, 1, INT32.min, INT32.max),
        fc.integer(SMALL),
        fc.integer(INT32),
      );
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constantFrom(0, 1, UINT32.max), fc.integer(SMALL), fc.integer(UINT32));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(
        fc.constantFrom(0n, -1n, INT64.min, INT64.max),
        fc.bigInt(SMALL_BIG),
        fc.bigInt(INT64),
      );
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.constantFrom(0n, 1n, UINT64.max), fc.bigInt(SMALL_BIG), fc.bigInt(UINT64));
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
 * Given known values, half are well-formed instead: every field with a known value has one
 * (mostly that value), so the requests reach the service's use cases with the arbitrary values
 * (huge ones now and then) in their other fields.
 */
export function requestArbitrary(
  descriptor: DescMessage,
  options: Omit<RequestArbitraryOptions, 'huge' | 'wellFormed'> = {},
): fc.Arbitrary<MessageInitShape<DescMessage>> {
  const arbitrary = messageArbitrary(descriptor, options);
  const huge = messageArbitrary(descriptor, { ...options, huge: true });
  if (!options.known) return fc.oneof(arbitrary, huge);
  return fc.oneof(
    { weight: 1, arbitrary },
    { weight: 1, arbitrary: huge },
    {
      weight: 2,
      arbitrary: messageArbitrary(descriptor, { ...options, wellFormed: true }),
    },
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
  const knownKeys: string[] = [];
  for (const field of plain) {
    const arbitrary = fieldArbitrary(field, options, depth);
    const known = knownFieldValue(field, options);
    model[field.localName] = known ? mixed(arbitrary, known, options) : arbitrary;
    if (known) knownKeys.push(field.localName);
  }
  for (const oneof of descriptor.oneofs) {
    model[oneof.localName] = fc.oneof(
      ...oneof.fields.map((field) =>
        valueArbitrary(field, options, depth).map((value) => ({ case: field.localName, value })),
      ),
    );
  }
  const generic = fc.record(model, {
    requiredKeys: options.huge ? Object.keys(model) : options.wellFormed ? knownKeys : [],
  }) as fc.Arbitrary<MessageInitShape<DescMessage>>;
  const deep = deepArbitrary(descriptor.typeName);
  const arbitrary = deep
    ? fc.oneof({ weight: 4, arbitrary: generic }, { weight: 1, arbitrary: deep })
    : generic;
  const known = options.huge ? undefined : own(options.known?.messages, descriptor.typeName);
  if (!known) return arbitrary;
  const knownOrMutated = fc.oneof(
    { weight: 2, arbitrary: known },
    { weight: 1, arbitrary: mutated(descriptor, known, options) },
  );
  return mixed(arbitrary, knownOrMutated, options);
}

/** A field of a message inside a value, which a mutation may set. */
interface Slot {
  readonly message: Record<string, unknown>;
  readonly field: DescField;
}

/**
 * A known value with one field somewhere inside it — at any depth, set or not — given an
 * arbitrary value of its type: a valid rule with one odd operand, a real id with an odd page.
 */
function mutated(
  descriptor: DescMessage,
  known: fc.Arbitrary<MessageInitShape<DescMessage>>,
  options: RequestArbitraryOptions,
): fc.Arbitrary<MessageInitShape<DescMessage>> {
  const valueOptions = { ...options, wellFormed: false };
  return known.chain((init) => {
    const slots = slotsOf(create(descriptor, init), descriptor);
    if (slots.length === 0) return fc.constant(init);
    return fc.nat(slots.length - 1).chain((index) =>
      fieldArbitrary((slots[index] as Slot).field, valueOptions, MUTATION_DEPTH).map((value) => {
        // a copy, so the known value stays as it was for the next case
        const copy = clone(descriptor, create(descriptor, init));
        assign(slotsOf(copy, descriptor)[index] as Slot, value);
        return copy as MessageInitShape<DescMessage>;
      }),
    );
  });
}

/** How deep the message nesting of a value put in by a mutation may go. */
const MUTATION_DEPTH = 2;

/** Every field of a message and of the messages in it, in a fixed order. */
function slotsOf(message: unknown, descriptor: DescMessage): Slot[] {
  const slots: Slot[] = [];
  const visit = (value: unknown, type: DescMessage) => {
    const record = value as Record<string, unknown>;
    for (const field of type.fields) {
      slots.push({ message: record, field });
      if (field.fieldKind === 'message' && !usesJson(field)) {
        const held = field.oneof
          ? (record[field.oneof.localName] as { case?: string; value?: unknown })
          : { case: field.localName, value: record[field.localName] };
        if (held.case === field.localName && held.value !== undefined)
          visit(held.value, field.message);
      } else if (field.fieldKind === 'list' && field.listKind === 'message' && !usesJson(field)) {
        for (const item of record[field.localName] as unknown[]) visit(item, field.message);
      }
    }
  };
  visit(message, descriptor);
  return slots;
}

/** Sets the field of a slot to a value made by fieldArbitrary (messages in it as messages). */
function assign({ message, field }: Slot, value: unknown): void {
  const asMessage = (item: unknown) =>
    field.message && !usesJson(field)
      ? create(field.message, item as MessageInitShape<DescMessage>)
      : item;
  let converted = value;
  if (field.fieldKind === 'message') converted = asMessage(value);
  if (field.fieldKind === 'list') converted = (value as unknown[]).map(asMessage);
  if (field.fieldKind === 'map')
    converted = Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, asMessage(v)]),
    );
  if (field.oneof) message[field.oneof.localName] = { case: field.localName, value: converted };
  else message[field.localName] = converted;
}

/**
 * Whether protobuf-es holds the field's values as JSON: google.protobuf.Struct outside
 * google.protobuf.Value is a plain JSON object.
 */
function usesJson(field: DescField): boolean {
  return (
    field.message?.typeName === 'google.protobuf.Struct' &&
    field.parent.typeName !== 'google.protobuf.Value'
  );
}

/** A known value of a field (see KnownValues), whatever message contains it; none for huge requests. */
function knownFieldValue(
  field: DescField,
  options: RequestArbitraryOptions,
): fc.Arbitrary<unknown> | undefined {
  const fields = options.known?.fields;
  if (options.huge || !fields) return undefined;
  return own(fields, `${field.parent.typeName}.${field.name}`) ?? own(fields, field.name);
}

function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Arbitrary and known values of one thing: known ones mostly, in well-formed requests. */
function mixed<T>(
  arbitrary: fc.Arbitrary<T>,
  known: fc.Arbitrary<T>,
  options: RequestArbitraryOptions,
): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 1, arbitrary },
    { weight: options.wellFormed ? 4 : 1, arbitrary: known },
  );
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
            : messageValue(field, field.message, nested(itemOptions), depth);
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
            : messageValue(field, field.message, nested(options), depth);
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
      return messageValue(field, field.message, nested(options), depth);
    default:
      return fieldArbitrary(field, options, depth);
  }
}

/** A value of a message-typed field (JSON for a google.protobuf.Struct, see usesJson). */
function messageValue(
  field: DescField,
  message: DescMessage,
  options: RequestArbitraryOptions,
  depth: number,
): fc.Arbitrary<unknown> {
  if (usesJson(field)) return jsonObjectArbitrary(options);
  return messageArbitrary(message, options, depth + 1);
}

/** Keys of JSON objects that have broken services before: operators, prototype keys, paths. */
const ODD_KEYS = ['', '$where', '$gt', '__proto__', 'constructor', 'a.b', '.', '\u0000', 'é'];

/**
 * JSON objects as a Struct field carries them: odd keys, every kind of value (numbers not
 * finite included), nested a little, or hundreds of levels deep.
 */
function jsonObjectArbitrary(options: RequestArbitraryOptions): fc.Arbitrary<JsonObject> {
  const key = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 2, arbitrary: fc.constantFrom(...ODD_KEYS) },
    ...(options.strings?.length
      ? [{ weight: 2, arbitrary: fc.constantFrom(...options.strings) }]
      : []),
  );
  const object = (value: fc.Arbitrary<JsonValue>) =>
    // fromEntries, so that a "__proto__" key is a key like any other
    fc.array(fc.tuple(key, value), { maxLength: 4 }).map((entries) => Object.fromEntries(entries));
  const { json } = fc.letrec<{ json: JsonValue }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, 2 ** 53 + 1),
      fc.integer(),
      stringArbitrary({ ...options, small: true }),
      fc.array(tie('json'), { maxLength: 3 }),
      object(tie('json')),
    ),
  }));
  const deep = fc
    .tuple(fc.integer({ min: 50, max: 300 }), fc.constantFrom(...ODD_KEYS))
    .map(([levels, deepKey]) => ({ nested: deepJson(levels, deepKey) }));
  return fc.oneof({ weight: 4, arbitrary: object(json) }, { weight: 1, arbitrary: deep });
}

/** A JSON value nested `depth` levels deep, alternating arrays and objects. */
function deepJson(depth: number, key: string): JsonValue {
  let value: JsonValue = 'bottom';
  for (let level = 0; level < depth; level++)
    value = level % 2 === 0 ? [value] : Object.fromEntries([[key, value]]);
  return value;
}

/** Options for a nested message: huge values only ever at the top level, so requests stay sendable. */
function nested(options: RequestArbitraryOptions): RequestArbitraryOptions {
  return options.huge ? { ...options, huge: false } : options;
}
