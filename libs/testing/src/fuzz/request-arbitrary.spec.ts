import {
  type DescMessage,
  type MessageInitShape,
  create,
  equals,
  fromJson,
  toBinary,
} from '@bufbuild/protobuf';
import {
  CreateSegmentFromTemplateRequestSchema,
  GetProfileRequestSchema,
  GetSegmentRequestSchema,
  LookupProfileRequestSchema,
  ProfileService,
  RenameSegmentRequestSchema,
  RevertSegmentRequestSchema,
  type Rule,
  RuleSchema,
  SegmentService,
  UpdateSegmentRequestSchema,
  ValidateRuleRequestSchema,
} from '@shoal/contracts';
import { healthServiceDescriptor } from '@shoal/platform';
import fc from 'fast-check';
import { requestArbitrary } from './request-arbitrary';

const sample = (schema: DescMessage, runs = 300) =>
  fc.sample(requestArbitrary(schema, { strings: ['known-id'] }), { numRuns: runs, seed: 7 });

/** How deep a JSON value nests. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

describe('fuzz requests from descriptors', () => {
  it.each(
    [ProfileService, SegmentService, healthServiceDescriptor()].flatMap((service) =>
      service.methods.map((m) => [`${service.typeName}/${m.name}`, m.input] as const),
    ),
  )('makes requests %s can carry on the wire', (_, input) => {
    for (const init of sample(input, 25)) {
      expect(() => toBinary(input, create(input, init))).not.toThrow();
    }
  });

  it('tries empty, known, odd and huge strings', () => {
    const ids = sample(GetProfileRequestSchema).map(
      (r) => (r as MessageInitShape<typeof GetProfileRequestSchema>).profileId,
    );
    expect(ids).toContain('');
    expect(ids).toContain('known-id');
    expect(ids).toContain('$gt');
    expect(ids.some((id) => (id?.length ?? 0) >= 70_000)).toBe(true);
  });

  it('tries enum numbers the enum does not declare', () => {
    const kinds = sample(LookupProfileRequestSchema).map(
      (r) => (r as MessageInitShape<typeof LookupProfileRequestSchema>).identity?.kind,
    );
    expect(kinds).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(kinds.some((k) => k !== undefined && (k < 0 || k > 2))).toBe(true);
  });

  it('tries Struct values nested hundreds of levels deep', () => {
    const depths = sample(CreateSegmentFromTemplateRequestSchema).map((r) =>
      depthOf((r as MessageInitShape<typeof CreateSegmentFromTemplateRequestSchema>).parameters),
    );
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(50);
  });

  it('makes Struct fields JSON objects, with odd keys and numbers that are not finite', () => {
    const parameters = sample(CreateSegmentFromTemplateRequestSchema, 1_000).flatMap((r) => {
      const json = (r as MessageInitShape<typeof CreateSegmentFromTemplateRequestSchema>)
        .parameters;
      return json ? [json] : [];
    });
    const keys = new Set(parameters.flatMap((p) => Object.keys(p)));
    expect([...keys]).toEqual(expect.arrayContaining(['$where', '__proto__', 'a.b', '']));
    expect(keys.has('fields')).toBe(false);
    const numbers = parameters
      .flatMap((p) => Object.values(p))
      .filter((v) => typeof v === 'number');
    expect(numbers.some((n) => !Number.isFinite(n))).toBe(true);
  });

  it('tries small counts and versions, not only extremes', () => {
    const versions = sample(RenameSegmentRequestSchema).map(
      (r) => (r as MessageInitShape<typeof RenameSegmentRequestSchema>).expectedVersion,
    );
    expect(versions).toEqual(expect.arrayContaining([1n, 2n, 3n]));
  });

  describe('with known values', () => {
    const known = {
      fields: {
        id: fc.constant('seg-1'),
        'shoal.v1.RenameSegmentRequest.expected_version': fc.constant(7_777n),
      },
      messages: { 'google.protobuf.FieldMask': fc.constant({ paths: ['description'] }) },
    };
    const requests = <T>(schema: DescMessage) =>
      fc.sample(requestArbitrary(schema, { known }), { numRuns: 400, seed: 7 }) as T[];

    it('sends them in most requests, by field name and by full name', () => {
      const renames = requests<MessageInitShape<typeof RenameSegmentRequestSchema>>(
        RenameSegmentRequestSchema,
      );
      const both = renames.filter((r) => r.id === 'seg-1' && r.expectedVersion === 7_777n);
      expect(both.length).toBeGreaterThan(renames.length / 4);
      // a full name is that message's field only
      const versions = requests<MessageInitShape<typeof RevertSegmentRequestSchema>>(
        RevertSegmentRequestSchema,
      ).map((r) => r.expectedVersion);
      expect(versions).not.toContain(7_777n);
    });

    it('sends known messages inside requests, and arbitrary ones too', () => {
      const masks = requests<MessageInitShape<typeof UpdateSegmentRequestSchema>>(
        UpdateSegmentRequestSchema,
      ).map((r) => JSON.stringify(r.updateMask?.paths));
      expect(masks).toContain('["description"]');
      expect(masks.filter((m) => m !== '["description"]').length).toBeGreaterThan(0);
    });

    it('sends huge values beside known ones, so a use case gets them', () => {
      const renames = requests<MessageInitShape<typeof RenameSegmentRequestSchema>>(
        RenameSegmentRequestSchema,
      );
      expect(renames.some((r) => r.id === 'seg-1' && (r.name?.length ?? 0) >= 9_000)).toBe(true);
    });

    it('sends known messages with one field deep inside them made arbitrary', () => {
      const rule = fromJson(RuleSchema, {
        timeZone: 'UTC',
        condition: {
          all: { conditions: [{ event: { name: 'order', count: { gt: 1 } } }, { hasTag: 'vip' }] },
        },
      });
      const rules = fc
        .sample(
          requestArbitrary(ValidateRuleRequestSchema, {
            known: { messages: { 'shoal.v1.Rule': fc.constant(rule) } },
          }),
          {
            numRuns: 600,
            seed: 7,
          },
        )
        .map((r) => (r as MessageInitShape<typeof ValidateRuleRequestSchema>).rule)
        .filter((r) => r !== undefined)
        .map((r) => create(RuleSchema, r));
      const conditions = (r: Rule) =>
        r.condition?.kind.case === 'all' ? r.condition.kind.value.conditions : [];
      const eventName = (r: Rule) => {
        const first = conditions(r)[0]?.kind;
        return first?.case === 'event' ? first.value.name : undefined;
      };
      const tag = (r: Rule) => {
        const second = conditions(r)[1]?.kind;
        return second?.case === 'hasTag' ? second.value : undefined;
      };
      expect(rules.some((r) => equals(RuleSchema, r, rule))).toBe(true);
      // the event's name changed, everything around it as it was
      expect(
        rules.some(
          (r) => eventName(r) !== undefined && eventName(r) !== 'order' && tag(r) === 'vip',
        ),
      ).toBe(true);
      // the tag changed, the event as it was
      expect(
        rules.some((r) => eventName(r) === 'order' && tag(r) !== undefined && tag(r) !== 'vip'),
      ).toBe(true);
    });

    it('still sends huge and arbitrary values where known ones would do', () => {
      const ids = requests<MessageInitShape<typeof GetSegmentRequestSchema>>(
        GetSegmentRequestSchema,
      ).map((r) => r.id);
      expect(ids.some((id) => (id?.length ?? 0) >= 9_000)).toBe(true);
      expect(ids.some((id) => id !== undefined && id !== 'seg-1' && id.length < 9_000)).toBe(true);
    });
  });
});
