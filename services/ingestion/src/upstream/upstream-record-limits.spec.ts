import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { GetProfileResponseSchema, ProfileSchema } from '@shoal/contracts';
import { type FieldViolation, Violations } from '@shoal/platform';
import {
  MAX_CONFIGURABLE_DEPTH,
  type UpstreamLimits,
  checkFreeForm,
} from './upstream-record-limits';

const limits: UpstreamLimits = { maxDepth: 4, maxKeys: 10, maxKeyLength: 8, maxStringLength: 5 };

function problems(objects: [string, unknown][], with_ = limits): FieldViolation[] {
  const v = new Violations();
  checkFreeForm(objects, with_, v);
  return [...v.all];
}

/** `depth` nested containers: { a: { a: … 1 } } (or arrays), the outer one counting as one. */
function nested(depth: number, array = false): unknown {
  let value: unknown = 1;
  for (let level = 1; level < depth; level++) value = array ? [value] : { a: value };
  return array ? { a: value } : { a: value };
}

describe('free-form objects of upstream events', () => {
  it('accepts what a store and a protobuf client can hold', () => {
    expect(
      problems(
        [
          [
            'traits',
            { plan: 'pro', 'Lifetime value': 12.5, tags: ['a', 'b'], address: { city: 'Oslo' } },
          ],
          ['context', { ip: '10.0.0.1', 'é-ü': true, empty: null }],
        ],
        { ...limits, maxKeyLength: 256, maxStringLength: 100 },
      ),
    ).toEqual([]);
  });

  it.each([
    ['a NUL character', 'a\u0000b', 'traits["a\\u0000b"]', 'field name contains a NUL character'],
    ['a leading "$"', '$set', 'traits["$set"]', 'field name starts with "$"'],
    ['a dot', 'a.b', 'traits["a.b"]', 'field name contains "."'],
    ['nothing', '', 'traits[""]', 'field name is empty'],
    [
      'a lone surrogate',
      'a\ud800',
      'traits["a\\ud800"]',
      'field name is not valid Unicode (a lone surrogate)',
    ],
    [
      'too many characters',
      'abcdefghi',
      'traits.abcdefghi',
      'field name is longer than 8 characters (INGEST_MAX_KEY_LENGTH)',
    ],
  ])(
    'refuses a field name with %s, at any depth, naming its path',
    (_, name, path, description) => {
      expect(problems([['traits', { [name]: 1 }]])).toEqual([{ field: path, description }]);
      expect(problems([['traits', { x: [{ [name]: 1 }] }]])).toEqual([
        { field: path.replace(/^traits/, 'traits.x[0]'), description },
      ]);
    },
  );

  it('accepts nesting up to the limit and refuses one level more, for objects and arrays', () => {
    expect(problems([['traits', nested(4)]])).toEqual([]);
    expect(problems([['traits', nested(4, true)]])).toEqual([]);
    expect(problems([['traits', nested(5)]])).toEqual([
      { field: 'traits.a.a.a.a', description: 'nests deeper than 4 levels (INGEST_MAX_DEPTH)' },
    ]);
    expect(problems([['traits', nested(5, true)]])).toEqual([
      { field: 'traits.a[0][0][0]', description: 'nests deeper than 4 levels (INGEST_MAX_DEPTH)' },
    ]);
  });

  it('stops at the limit however deep the input goes', () => {
    expect(problems([['traits', nested(100_000)]])).toHaveLength(1);
  });

  it('counts field names across all free-form objects of one event', () => {
    const five = { a: 1, b: 2, c: 3, d: 4, e: 5 };
    expect(
      problems([
        ['context', five],
        ['traits', { ...five }],
      ]),
    ).toEqual([]);
    expect(
      problems([
        ['context', five],
        ['traits', { ...five, f: { g: 1 } }],
      ]),
    ).toEqual([
      { field: 'traits', description: 'has more than 10 fields in one event (INGEST_MAX_KEYS)' },
    ]);
  });

  it('refuses strings longer than the limit and numbers JSON cannot carry', () => {
    expect(
      problems([['properties', { note: '123456', ok: '12345', ratio: Number.NaN, big: Infinity }]]),
    ).toEqual([
      {
        field: 'properties.note',
        description: 'is longer than 5 characters (INGEST_MAX_STRING_LENGTH)',
      },
      { field: 'properties.ratio', description: 'must be a finite number' },
      { field: 'properties.big', description: 'must be a finite number' },
    ]);
  });

  it('reports a bounded number of problems', () => {
    const bad = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`$${i}`, 1]));
    expect(problems([['traits', bad]], { ...limits, maxKeys: 1000 })).toHaveLength(20);
  });
});

describe('the deepest configurable nesting', () => {
  it('still decodes in protobuf-es when a profile is read back', () => {
    const response = create(GetProfileResponseSchema, {
      profile: create(ProfileSchema, {
        id: 'user:deep',
        traits: nested(MAX_CONFIGURABLE_DEPTH) as never,
      }),
    });
    const decoded = fromBinary(
      GetProfileResponseSchema,
      toBinary(GetProfileResponseSchema, response),
    );
    expect(decoded.profile?.traits).toEqual(nested(MAX_CONFIGURABLE_DEPTH));
    const arrays = nested(MAX_CONFIGURABLE_DEPTH, true);
    const withArrays = create(GetProfileResponseSchema, {
      profile: create(ProfileSchema, { id: 'user:deep', traits: arrays as never }),
    });
    expect(
      fromBinary(GetProfileResponseSchema, toBinary(GetProfileResponseSchema, withArrays)).profile
        ?.traits,
    ).toEqual(arrays);
  });
});
