import { type DescMessage, type MessageInitShape, create, toBinary } from '@bufbuild/protobuf';
import {
  CreateSegmentFromTemplateRequestSchema,
  GetProfileRequestSchema,
  LookupProfileRequestSchema,
  ProfileService,
  SegmentService,
} from '@shoal/contracts';
import { healthServiceDescriptor } from '@shoal/platform';
import fc from 'fast-check';
import { requestArbitrary } from './request-arbitrary';

const sample = (schema: DescMessage, runs = 300) =>
  fc.sample(requestArbitrary(schema, { strings: ['known-id'] }), { numRuns: runs, seed: 7 });

/** How deep a google.protobuf.Value init nests. */
function depthOf(value: unknown): number {
  const kind = (value as { kind?: { case?: string; value?: unknown } } | undefined)?.kind;
  if (kind?.case === 'listValue') {
    const values = (kind.value as { values?: unknown[] }).values ?? [];
    return 1 + Math.max(0, ...values.map(depthOf));
  }
  if (kind?.case === 'structValue') {
    const fields = (kind.value as { fields?: Record<string, unknown> }).fields ?? {};
    return 1 + Math.max(0, ...Object.values(fields).map(depthOf));
  }
  return 0;
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
    const depths = sample(CreateSegmentFromTemplateRequestSchema).map((r) => {
      const fields = (r as { parameters?: { fields?: Record<string, unknown> } }).parameters
        ?.fields;
      return Math.max(0, ...Object.values(fields ?? {}).map(depthOf));
    });
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(50);
  });
});
