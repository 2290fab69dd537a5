import { clone, create } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { Audience, RuleSchema, SegmentKind, SegmentSchema, Visibility } from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import {
  ann,
  bob,
  eve,
  newSegmentsTestService,
  refusal,
  using,
} from '../../test/segments-test-service';
import { SegmentRulesService } from './segment-rules.service';

const setup = () => newSegmentsTestService(SegmentRulesService);

describe('segment rules: what a segment may use', () => {
  it('refuses a shared segment using a private one, at the path of the reference', async () => {
    const t = await setup();
    const mine = await t.make(ann, { name: 'Mine' });
    const refused = await refusal(
      t.make(ann, {
        name: 'Ours',
        visibility: Visibility.SHARED,
        rule: using('inSegment', mine.id),
      }),
    );
    expect(refused.kind).toBe(ErrorKind.InvalidArgument);
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.rule.condition.inSegment']);
    expect(refused.violations[0]?.description).toMatch(/is private/);
  });

  it('refuses an editor pointing a shared segment at their own private list', async () => {
    const t = await setup();
    const shared = await t.make(ann, {
      name: 'Team',
      visibility: Visibility.SHARED,
      editors: { subjects: ['bob'] },
    });
    const list = await t.make(bob, { name: 'Bob’s list' }, SegmentKind.STATIC_LIST);
    const refused = await refusal(
      t.update(bob, shared.id, 1n, { rule: using('inList', list.id) }, ['rule']),
    );
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.rule.condition.inList']);
  });

  it('says a segment the caller cannot see does not exist, as for one that never did', async () => {
    const t = await setup();
    const hidden = await t.make(eve, { name: 'Eve only' });
    const violations = async (id: string) =>
      (
        await t.sut.ruleViolations({
          rule: using('inSegment', id),
          audience: Audience.UNSPECIFIED,
          principal: ann,
        })
      ).map((v) => ({ ...v, description: v.description.replace(id, '<id>') }));
    expect(await violations(hidden.id)).toEqual(await violations('seg_neverexisted00000000'));
  });

  it('refuses a list reference to something that is not a list', async () => {
    const t = await setup();
    const dynamic = await t.make(ann, { name: 'Dynamic' });
    const violations = await t.sut.ruleViolations({
      rule: using('inList', dynamic.id),
      audience: Audience.UNSPECIFIED,
      principal: ann,
    });
    expect(violations).toEqual([
      {
        field: 'rule.condition.inList',
        description: `static list "${dynamic.id}" does not exist`,
      },
    ]);
  });

  it('names no segment the caller cannot see when refusing a cycle through it', async () => {
    const t = await setup();
    const target = await t.make(ann, { name: 'Target', visibility: Visibility.SHARED });
    const middle = await t.make(ann, { name: 'Middle', visibility: Visibility.SHARED });
    const unseen = await t.make(eve, { name: 'Eve’s', rule: using('inSegment', target.id) });
    // stored before shared segments had to use only what their viewers see
    const legacy = clone(SegmentSchema, middle);
    legacy.rule = using('inSegment', unseen.id);
    t.repository.seed({
      segment: legacy,
      references: [unseen.id],
      destinations: [],
      deleted: false,
    });
    const refused = await refusal(
      t.update(ann, target.id, 1n, { rule: using('inSegment', middle.id) }, ['rule']),
    );
    expect(refused.violations[0]?.description).toMatch(/cycle/);
    expect(refused.message).not.toContain(unseen.id);
  });

  it('refuses hiding a segment from people who see a segment using it, listing those', async () => {
    const t = await setup();
    const base = await t.make(ann, { name: 'Base', visibility: Visibility.SHARED });
    const user = await t.make(bob, {
      name: 'Uses base',
      visibility: Visibility.SHARED,
      rule: using('inSegment', base.id),
    });
    const privately = await t.make(eve, {
      name: 'Eve uses base',
      rule: using('inSegment', base.id),
    });
    const refused = await refusal(
      t.update(ann, base.id, 1n, { visibility: Visibility.PRIVATE }, ['visibility']),
    );
    expect([refused.kind, refused.reason]).toEqual([
      ErrorKind.FailedPrecondition,
      'SEGMENT_IN_USE',
    ]);
    expect(refused.message).toContain(user.id);
    expect(refused.message).toContain('1 segment you cannot see');
    expect(refused.message).not.toContain(privately.id);
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.visibility']);
  });

  it('checks who sees a used segment only when that changes, not when it is listed in another order', async () => {
    const t = await setup();
    const base = await t.make(ann, {
      name: 'Base',
      visibility: Visibility.SHARED,
      hiddenFrom: { subjects: ['carl', 'dan'] },
    });
    // stored before shared segments had to use only what their viewers see: carl sees it
    const user = await t.make(bob, { name: 'Uses base', visibility: Visibility.SHARED });
    const legacy = clone(SegmentSchema, user);
    legacy.rule = using('inSegment', base.id);
    t.repository.seed({ segment: legacy, references: [base.id], destinations: [], deleted: false });
    const reordered = { hiddenFrom: { subjects: ['dan', 'carl'] } };
    const { segment } = await t.update(ann, base.id, 1n, reordered, ['hiddenFrom']);
    expect(segment.version).toBe(2n);
    const more = { hiddenFrom: { subjects: ['dan', 'carl', 'erin'] } };
    expect((await refusal(t.update(ann, base.id, 2n, more, ['hiddenFrom']))).reason).toBe(
      'SEGMENT_IN_USE',
    );
  });
});

describe('segment rules: definitions that could not be published are refused', () => {
  it('refuses a NaN operand as invalid, with its path', async () => {
    const t = await setup();
    const rule = create(RuleSchema, {
      condition: {
        kind: {
          case: 'trait',
          value: {
            path: 'score',
            operator: {
              case: 'equals',
              value: create(ValueSchema, { kind: { case: 'numberValue', value: Number.NaN } }),
            },
          },
        },
      },
    });
    const refused = await refusal(t.make(ann, { name: 'NaN', rule }));
    expect(refused.kind).toBe(ErrorKind.InvalidArgument);
    expect(refused.violations.map((v) => v.field)).toEqual(['segment.rule.condition.trait.equals']);
  });

  it('refuses a definition larger than SEGMENT_DEFINITION_MAX_BYTES as a whole', async () => {
    const t = await setup();
    const refused = await refusal(
      t.make(
        ann,
        {
          name: 'Wordy',
          description: 'w'.repeat(2000),
          tags: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(64, 't')),
        },
        SegmentKind.STATIC_LIST,
      ),
    );
    expect(refused.violations).toEqual([
      {
        field: 'segment',
        description: expect.stringContaining('SEGMENT_DEFINITION_MAX_BYTES is 2048'),
      },
    ]);
  });

  it('refuses nesting beyond RULE_MAX_DEPTH before anything else, at the depth it goes too deep', async () => {
    const t = await setup();
    let condition = { kind: { case: 'hasTag' as const, value: 'x' } } as never;
    for (let i = 0; i < 10; i++)
      condition = { kind: { case: 'all', value: { conditions: [condition] } } } as never;
    const violations = await t.sut.ruleViolations({
      rule: create(RuleSchema, { condition }),
      audience: Audience.UNSPECIFIED,
      principal: ann,
    });
    expect(violations).toHaveLength(1);
    expect(violations[0]?.field).toBe(`rule.condition${'.all.conditions[0]'.repeat(8)}`);
  });
});
