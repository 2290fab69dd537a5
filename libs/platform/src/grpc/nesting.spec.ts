import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type Condition,
  ConditionSchema,
  CreateSegmentFromTemplateRequestSchema,
  CreateSegmentRequestSchema,
  SegmentKind,
} from '@shoal/contracts';
import { DECODE_DEPTH_LIMIT, pathNestedTooDeep } from './nesting';

const varint = (n: number) => {
  const out: number[] = [];
  for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
  out.push(n);
  return Buffer.from(out);
};
/** The key (field number, length-delimited) and length that open a field of `length` bytes. */
const opening = (fieldNumber: number, length: number) =>
  Buffer.concat([varint((fieldNumber << 3) | 2), varint(length)]);

/**
 * A CreateSegmentRequest whose rule nests `groups` all-groups around a tag condition, written
 * outside in, in linear time (protobuf-es itself cannot write such depths).
 */
function deepRequest(groups: number): Uint8Array {
  const leaf = Buffer.concat([opening(11, 3), Buffer.from('vip')]);
  const openings: Buffer[] = [];
  let length = leaf.length;
  for (let i = 0; i < groups; i++) {
    const group = opening(1, length); // ConditionGroup.conditions
    length += group.length;
    const condition = opening(1, length); // Condition.all
    length += condition.length;
    openings.push(group, condition);
  }
  const rule = opening(1, length); // Rule.condition
  length += rule.length;
  const name = Buffer.concat([opening(1, 4), Buffer.from('Deep')]);
  const ruleField = opening(5, length); // SegmentDraft.rule
  const draft = opening(2, name.length + ruleField.length + length); // CreateSegmentRequest.segment
  return Buffer.concat([
    Buffer.from([0x08, SegmentKind.DYNAMIC]),
    draft,
    name,
    ruleField,
    rule,
    ...openings.reverse(),
    leaf,
  ]);
}

describe('messages nested too deep to decode', () => {
  it('finds the path where a request nests deeper than decoding goes, at any depth', () => {
    for (const groups of [60, 5_000, 200_000]) {
      const bytes = deepRequest(groups);
      expect(() => fromBinary(CreateSegmentRequestSchema, bytes)).toThrow(/recursion/);
      // request 1, segment 2, rule 3, condition 4, then a group and a condition per level:
      // the 49th group is at depth 101
      expect(DECODE_DEPTH_LIMIT).toBe(100);
      expect(pathNestedTooDeep(CreateSegmentRequestSchema, bytes)).toBe(
        `segment.rule.condition${'.all.conditions[0]'.repeat(48)}.all`,
      );
    }
  });

  it('finds nothing in what decodes, and agrees with the decoder on where the limit is', () => {
    const fits = deepRequest((DECODE_DEPTH_LIMIT - 4) / 2);
    expect(() => fromBinary(CreateSegmentRequestSchema, fits)).not.toThrow();
    expect(pathNestedTooDeep(CreateSegmentRequestSchema, fits)).toBeUndefined();
    expect(
      pathNestedTooDeep(CreateSegmentRequestSchema, deepRequest(DECODE_DEPTH_LIMIT / 2)),
    ).toBeDefined();
  });

  it('counts list elements and map keys in the path', () => {
    const leaf = create(ConditionSchema, { kind: { case: 'hasTag', value: 'x' } });
    const group = (conditions: Condition[]) =>
      create(ConditionSchema, { kind: { case: 'any', value: { conditions } } });
    const bytes = toBinary(
      CreateSegmentRequestSchema,
      create(CreateSegmentRequestSchema, {
        segment: { rule: { condition: group([leaf, group([leaf, leaf, group([leaf])])]) } },
      }),
    );
    // request 1, segment 2, rule 3, condition 4, group 5, condition 6, group 7, condition 8
    expect(pathNestedTooDeep(CreateSegmentRequestSchema, bytes, 8)).toBe(
      'segment.rule.condition.any.conditions[1].any.conditions[2].any',
    );

    const request = create(CreateSegmentFromTemplateRequestSchema, {
      parameters: { outer: { inner: 'x' } },
    });
    // request 1, Struct 2, Value 3, Struct 4, Value 5
    expect(
      pathNestedTooDeep(
        CreateSegmentFromTemplateRequestSchema,
        toBinary(CreateSegmentFromTemplateRequestSchema, request),
        4,
      ),
    ).toBe('parameters.fields["outer"].structValue.fields["inner"]');
  });

  it('leaves malformed bytes to the decoder', () => {
    expect(
      pathNestedTooDeep(CreateSegmentRequestSchema, Uint8Array.of(0x12, 0x7f)),
    ).toBeUndefined();
  });
});
