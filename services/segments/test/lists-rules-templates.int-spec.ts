import { type JsonValue, create, fromBinary } from '@bufbuild/protobuf';
import { ListValueSchema, ValueSchema } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import {
  type Condition,
  ConditionSchema,
  type FieldCondition,
  FieldConditionSchema,
  ListMembershipChangedSchema,
  RuleSchema,
  TimeOperandSchema,
  ValueRangeSchema,
  ReentryMode,
  SegmentKind,
  Visibility,
  listMembershipTopic,
} from '@shoal/contracts';
import { eventually } from '@shoal/testing';
import { lengthDelimited, rawCall, refusal, rule } from './segment-client';
import { segmentsForTests } from './segments-for-tests';

describe('SegmentService: static lists', () => {
  const { scope, c } = segmentsForTests({ STATIC_LIST_MAX_MEMBERS: '5' });

  it('adds and removes members idempotently, pages through them and publishes each change once', async () => {
    const { segment: list } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Beta testers' },
    });
    const listId = list!.id;
    expect(
      await c.ann.addListMembers({ listId, memberIds: ['p3', 'p1', 'p2', 'p1'] }),
    ).toMatchObject({ added: 3 });
    expect(await c.ann.addListMembers({ listId, memberIds: ['p1', 'p2'] })).toMatchObject({
      added: 0,
    });
    expect(await c.ann.removeListMembers({ listId, memberIds: ['p2', 'p9'] })).toMatchObject({
      removed: 1,
    });

    const first = await c.ann.listListMembers({ listId, page: { pageSize: 1 } });
    const second = await c.ann.listListMembers({
      listId,
      page: { pageSize: 1, pageToken: first.nextPageToken },
    });
    expect([...first.memberIds, ...second.memberIds]).toEqual(['p1', 'p3']);
    expect(second.nextPageToken).toBe('');

    const changes = await eventually(async () => {
      const records = (await scope.readTopicToEnd(listMembershipTopic)).map((r) => ({
        key: r.key?.toString(),
        ...fromBinary(ListMembershipChangedSchema, r.value as Buffer),
      }));
      const p2 = records.filter((r) => r.listId === listId && r.memberId === 'p2');
      expect(p2.map((r) => [r.member, r.sequence])).toEqual([
        [true, 1n],
        [false, 2n],
      ]);
      return records.filter((r) => r.listId === listId);
    });
    expect(changes.filter((r) => r.memberId === 'p1')).toHaveLength(1);
    expect(changes.every((r) => r.key === r.memberId && r.changedBy === 'ann')).toBe(true);
  });

  it('refuses more members than STATIC_LIST_MAX_MEMBERS, naming the limit', async () => {
    const { segment: list } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Small list' },
    });
    await c.ann.addListMembers({ listId: list!.id, memberIds: ['a', 'b', 'c', 'd'] });
    const full = await refusal(c.ann.addListMembers({ listId: list!.id, memberIds: ['e', 'f'] }));
    expect(full.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(full.details).toContain('STATIC_LIST_MAX_MEMBERS is 5');
  });

  it('rejects bad member requests and member changes on dynamic segments', async () => {
    const { segment: list } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Strict list' },
    });
    const empty = await refusal(c.ann.addListMembers({ listId: list!.id, memberIds: ['ok', ''] }));
    expect(empty.violations.map((v) => v.field)).toEqual(['memberIds[1]']);
    const { segment: dynamic } = await c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name: 'Dyn', rule: rule({ condition: { hasTag: 'x' } }) },
    });
    expect(
      (await refusal(c.ann.addListMembers({ listId: dynamic!.id, memberIds: ['p'] }))).code,
    ).toBe(status.FAILED_PRECONDITION);
    expect((await refusal(c.bob.addListMembers({ listId: list!.id, memberIds: ['p'] }))).code).toBe(
      status.NOT_FOUND,
    );
  });

  it('duplicates a static list with its members', async () => {
    const { segment: list } = await c.ann.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Original' },
    });
    await c.ann.addListMembers({ listId: list!.id, memberIds: ['m1', 'm2'] });
    const { segment: copy } = await c.ann.duplicateSegment({
      id: list!.id,
      name: 'Copy of original',
    });
    expect((await c.ann.listListMembers({ listId: copy!.id })).memberIds).toEqual(['m1', 'm2']);
  });
});

describe('SegmentService: rules, references and limits', () => {
  const { c } = segmentsForTests({
    SEGMENTS_PER_OWNER_MAX: '6',
    SEGMENT_NAME_MAX_LENGTH: '20',
    SEGMENT_DESCRIPTION_MAX_LENGTH: '30',
    RULE_MAX_CONDITIONS: '3',
    RULE_MAX_DEPTH: '2',
    RULE_MAX_SEQUENCE_STEPS: '2',
    RULE_MAX_HISTORY_DAYS: '400',
    RULE_MAX_OPERAND_LENGTH: '40',
    RULE_MAX_LIST_VALUES: '3',
    SEGMENT_DEFINITION_MAX_BYTES: '1024',
  });

  it('validates a rule without saving it and reports every problem', async () => {
    const result = await c.eve.validateRule({
      rule: rule({
        timeZone: 'Mars/Olympus',
        condition: {
          any: {
            conditions: [
              { event: { name: 'Order Completed', count: { gt: 1 }, window: { lastDays: 900 } } },
              { inSegment: 'seg_doesnotexist00000000' },
            ],
          },
        },
      }),
    });
    expect(result.valid).toBe(false);
    expect(result.violations.map((v) => v.field)).toEqual(
      expect.arrayContaining([
        'rule.timeZone',
        'rule.condition.any.conditions[0].event.window.lastDays',
        'rule.condition.any.conditions[1].inSegment',
      ]),
    );
    expect((await c.eve.validateRule({ rule: rule({ condition: { hasTag: 'vip' } }) })).valid).toBe(
      true,
    );
  });

  it('refuses a change that would make segment references circular', async () => {
    const make = async (name: string, json: JsonValue) =>
      (
        await c.ann.createSegment({
          kind: SegmentKind.DYNAMIC,
          segment: { name, visibility: Visibility.SHARED, rule: rule(json) },
        })
      ).segment!;
    const a = await make('A', { condition: { hasTag: 'a' } });
    const b = await make('B', { condition: { inSegment: a.id } });
    const cyc = await refusal(
      c.ann.updateSegment({
        id: a.id,
        expectedVersion: 1n,
        segment: { rule: rule({ condition: { notInSegment: b.id } }) },
        updateMask: { paths: ['rule'] },
      }),
    );
    expect(cyc.code).toBe(status.INVALID_ARGUMENT);
    expect(cyc.violations[0]).toMatchObject({ field: 'segment.rule.condition.notInSegment' });
    expect(cyc.violations[0]?.description).toMatch(/cycle/);
    // someone else's private segment cannot be referenced: to them it does not exist
    const { segment: bobs } = await c.bob.createSegment({
      kind: SegmentKind.STATIC_LIST,
      segment: { name: 'Bob private' },
    });
    const hidden = await refusal(
      c.ann.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: { name: 'Peek', rule: rule({ condition: { inList: bobs!.id } }) },
      }),
    );
    expect(hidden.violations[0]?.description).toContain('does not exist');
  });

  it('enforces each configured limit with a message naming it', async () => {
    const long = await refusal(
      c.bob.createSegment({
        kind: SegmentKind.STATIC_LIST,
        segment: { name: 'x'.repeat(21), description: 'y'.repeat(31) },
      }),
    );
    expect(long.details).toContain('SEGMENT_NAME_MAX_LENGTH is 20');
    expect(long.details).toContain('SEGMENT_DESCRIPTION_MAX_LENGTH is 30');

    const tooMany = await refusal(
      c.bob
        .validateRule({
          rule: rule({
            condition: { all: { conditions: [{ hasTag: 'a' }, { hasTag: 'b' }, { hasTag: 'c' }] } },
          }),
        })
        .then((r) => {
          if (!r.valid)
            throw Object.assign(new Error(r.violations.map((v) => v.description).join('; ')), {
              isViolation: true,
            });
          return r;
        }),
    ).catch((e: Error) => e);
    expect(String(tooMany.message)).toContain('maxConditions is 3');

    const deep = await c.bob.validateRule({
      rule: rule({
        condition: { all: { conditions: [{ any: { conditions: [{ hasTag: 'a' }] } }] } },
      }),
    });
    expect(deep.violations.map((v) => v.description).join()).toMatch(/maxDepth/);
    const steps = await c.bob.validateRule({
      rule: rule({
        condition: {
          sequence: {
            steps: [{ event: 'a' }, { event: 'b' }, { event: 'c' }],
            within: { days: 1 },
          },
        },
      }),
    });
    expect(steps.violations.map((v) => v.description).join()).toMatch(/maxSequenceSteps/);
    const history = await c.bob.validateRule({
      rule: rule({
        condition: { event: { name: 'x', count: { gt: 0 }, window: { lastDays: 401 } } },
      }),
    });
    expect(history.valid).toBe(false);
    const operand = await c.bob.validateRule({
      rule: rule({ condition: { trait: { path: 'email', endsWith: 'x'.repeat(41) } } }),
    });
    const plain = (r: { violations: readonly { field: string; description: string }[] }) =>
      r.violations.map(({ field, description }) => ({ field, description }));
    expect(plain(operand)).toEqual([
      {
        field: 'rule.condition.trait.endsWith',
        description: expect.stringContaining('maxOperandLength is 40'),
      },
    ]);
    const list = await c.bob.validateRule({
      rule: rule({ condition: { trait: { path: 'plan', in: ['a', 'b', 'c', 'd'] } } }),
    });
    expect(plain(list)).toEqual([
      {
        field: 'rule.condition.trait.in',
        description: expect.stringContaining('maxListValues is 3'),
      },
    ]);
    const big = await refusal(
      c.bob.createSegment({
        kind: SegmentKind.STATIC_LIST,
        segment: {
          name: 'Many tags',
          tags: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(64, 't')),
        },
      }),
    );
    expect(big.violations).toEqual([
      {
        field: 'segment',
        description: expect.stringContaining('SEGMENT_DEFINITION_MAX_BYTES is 1024'),
      },
    ]);

    for (let i = 0; i < 6; i++)
      await c.eve.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: `eve ${i}` } });
    const seventh = await refusal(
      c.eve.createSegment({ kind: SegmentKind.STATIC_LIST, segment: { name: 'eve 6' } }),
    );
    expect(seventh.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(seventh.details).toContain('SEGMENTS_PER_OWNER_MAX is 6');
  });

  it('validates the re-entry policy as part of the definition', async () => {
    const bad = await refusal(
      c.bob.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Cooling',
          rule: rule({ condition: { hasTag: 'x' } }),
          reentry: { mode: ReentryMode.COOL_DOWN },
        },
      }),
    );
    expect(bad.violations.map((v) => v.field)).toEqual(['segment.reentry.coolDown']);
    const { segment } = await c.bob.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: {
        name: 'Once only',
        rule: rule({ condition: { hasTag: 'x' } }),
        reentry: { mode: ReentryMode.ONCE },
      },
    });
    expect(segment?.reentry?.mode).toBe(ReentryMode.ONCE);
  });
});

describe('SegmentService: templates', () => {
  const { c } = segmentsForTests();

  it('lists the product examples as parameterised templates with valid example rules', async () => {
    const { templates } = await c.ann.listTemplates({});
    expect(templates.map((t) => t.id)).toEqual([
      'repeat-purchasers-inactive',
      'category-buyers-no-email-opens',
      'content-readers',
      'cart-abandoners',
    ]);
    for (const template of templates) {
      expect((await c.ann.validateRule({ rule: template.example })).violations).toEqual([]);
    }
  });

  it('creates a segment from a template with parameters validated like any rule', async () => {
    const { segment } = await c.ann.createSegmentFromTemplate({
      templateId: 'content-readers',
      parameters: { topic: 'retirement-planning', min_views: 5 },
      segment: { name: 'Retirement readers', tags: ['content'] },
    });
    expect(segment?.rule?.condition?.kind.case).toBe('event');
    expect(segment).toMatchObject({
      name: 'Retirement readers',
      tags: ['content'],
      kind: SegmentKind.DYNAMIC,
    });

    const missing = await refusal(
      c.ann.createSegmentFromTemplate({
        templateId: 'content-readers',
        parameters: { min_views: 'many', colour: 'red' },
        segment: { name: 'Bad' },
      }),
    );
    expect(missing.code).toBe(status.INVALID_ARGUMENT);
    expect(missing.violations.map((v) => v.field).sort()).toEqual([
      'parameters.colour',
      'parameters.min_views',
      'parameters.topic',
    ]);
    const unknown = await refusal(
      c.ann.createSegmentFromTemplate({ templateId: 'nope', segment: { name: 'x' } }),
    );
    expect(unknown.code).toBe(status.NOT_FOUND);
  });

  it('refuses a template segment without a name as invalid input, naming the field', async () => {
    const unnamed = await refusal(
      c.ann.createSegmentFromTemplate({
        templateId: 'content-readers',
        parameters: { topic: 'retirement-planning' },
      }),
    );
    expect({ code: status[unnamed.code], fields: unnamed.violations.map((v) => v.field) }).toEqual({
      code: 'INVALID_ARGUMENT',
      fields: ['segment.name'],
    });
  });
});

describe('SegmentService: bad input is INVALID_ARGUMENT with the path to it', () => {
  const running = segmentsForTests();
  const { scope, c } = running;

  const dynamic = (name: string, condition: Condition) =>
    c.ann.createSegment({
      kind: SegmentKind.DYNAMIC,
      segment: { name, rule: create(RuleSchema, { condition }) },
    });
  const trait = (operator: FieldCondition['operator']): Condition =>
    create(ConditionSchema, {
      kind: { case: 'trait', value: create(FieldConditionSchema, { path: 'score', operator }) },
    });
  const number = (value: number) => create(ValueSchema, { kind: { case: 'numberValue', value } });

  it('refuses a 3 MiB operand, naming the limit', async () => {
    const huge = await refusal(
      c.ann.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Huge',
          rule: rule({ condition: { trait: { path: 'email', equals: 'x'.repeat(3 << 20) } } }),
        },
      }),
    );
    expect(huge.code).toBe(status.INVALID_ARGUMENT);
    expect(huge.violations).toEqual([
      {
        field: 'segment.rule.condition.trait.equals',
        description: expect.stringContaining('maxOperandLength is 2048'),
      },
    ]);
  });

  it('refuses NaN and infinite operands', async () => {
    const cases: [FieldCondition['operator'], string][] = [
      [{ case: 'equals', value: number(Number.NaN) }, 'equals'],
      [{ case: 'gt', value: number(Number.POSITIVE_INFINITY) }, 'gt'],
      [
        {
          case: 'in',
          value: create(ListValueSchema, { values: [number(1), number(Number.NEGATIVE_INFINITY)] }),
        },
        'in[1]',
      ],
      [
        {
          case: 'between',
          value: create(ValueRangeSchema, { min: number(Number.NaN), max: number(3) }),
        },
        'between.min',
      ],
    ];
    for (const [operator, at] of cases) {
      const bad = await refusal(dynamic(`Not a number ${at}`, trait(operator)));
      expect({ code: bad.code, fields: bad.violations.map((v) => v.field) }).toEqual({
        code: status.INVALID_ARGUMENT,
        fields: [`segment.rule.condition.trait.${at}`],
      });
      const validated = await c.ann.validateRule({
        rule: create(RuleSchema, { condition: trait(operator) }),
      });
      expect(validated.violations.map((v) => v.field)).toEqual([`rule.condition.trait.${at}`]);
    }
  });

  it('refuses instants outside the years 1 to 9999', async () => {
    const bad = await refusal(
      dynamic(
        'Far future',
        trait({
          case: 'after',
          value: create(TimeOperandSchema, {
            point: { case: 'at', value: { seconds: 10n ** 15n, nanos: 0 } },
          }),
        }),
      ),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.violations.map((v) => v.field)).toEqual(['segment.rule.condition.trait.after.at']);
  });

  it('names a missing id or version by the request’s own field', async () => {
    const fields = async (call: Promise<unknown>) =>
      (await refusal(call)).violations.map((v) => v.field);
    expect(await fields(c.ann.countListMembers({ listId: '' }))).toEqual(['listId']);
    expect(await fields(c.ann.addListMembers({ listId: '', memberIds: ['m'] }))).toEqual([
      'listId',
    ]);
    expect(
      await fields(c.exporter.setDestinationUsage({ segmentId: '', destinationId: 'd' })),
    ).toEqual(['segmentId']);
    expect(await fields(c.ann.getSegment({ id: '' }))).toEqual(['id']);
    expect(await fields(c.ann.updateSegment({ id: 'seg_absent', expectedVersion: 0n }))).toEqual([
      'expectedVersion',
    ]);
  });

  it('refuses 5000-deep nesting with the path to where it goes too deep', async () => {
    let condition = lengthDelimited(11, Buffer.from('vip'));
    for (let i = 0; i < 5000; i++) condition = lengthDelimited(1, lengthDelimited(1, condition));
    const draft = Buffer.concat([
      lengthDelimited(1, Buffer.from('Deep')),
      lengthDelimited(5, lengthDelimited(1, condition)),
    ]);
    const request = Buffer.concat([
      Buffer.from([0x08, SegmentKind.DYNAMIC]),
      lengthDelimited(2, draft),
    ]);
    const outcome = await rawCall(scope, running.service, 'CreateSegment', request);
    expect(outcome).not.toBe('ok');
    const bad = outcome as Exclude<typeof outcome, 'ok'>;
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.violations).toHaveLength(1);
    // a path this long is cut to fit the error trailer
    expect(bad.violations[0]?.field).toMatch(
      /^segment\.rule\.condition(\.all\.conditions\[0\])+\.all.*… \(truncated\)$/,
    );
    expect(bad.violations[0]?.description).toMatch(/nested/);
  });

  it('refuses nesting beyond RULE_MAX_DEPTH before walking the rule', async () => {
    let json: JsonValue = { hasTag: 'vip' };
    for (let i = 0; i < 40; i++) json = { all: { conditions: [json] } };
    const bad = await refusal(
      c.ann.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: { name: 'Nested', rule: rule({ condition: json }) },
      }),
    );
    expect(bad.violations).toEqual([
      {
        field: `segment.rule.condition${'.all.conditions[0]'.repeat(8)}`,
        description: expect.stringContaining('maxDepth is 8'),
      },
    ]);
  });

  it('refuses template parameters outside their bounds', async () => {
    const out = await refusal(
      c.ann.createSegmentFromTemplate({
        templateId: 'repeat-purchasers-inactive',
        parameters: { inactive_days: -5, min_orders: 2 ** 31 },
        segment: { name: 'Out of range' },
      }),
    );
    expect(out.code).toBe(status.INVALID_ARGUMENT);
    expect(out.violations.map((v) => v.field).sort()).toEqual([
      'parameters.inactive_days',
      'parameters.min_orders',
    ]);
    const tooLong = await refusal(
      c.ann.createSegmentFromTemplate({
        templateId: 'cart-abandoners',
        parameters: { within_days: 2 ** 32, lookback_days: 1.5 },
        segment: { name: 'Too long' },
      }),
    );
    expect(tooLong.code).toBe(status.INVALID_ARGUMENT);
    expect(tooLong.violations.map((v) => v.field).sort()).toEqual([
      'parameters.lookback_days',
      'parameters.within_days',
    ]);
    const { templates } = await c.ann.listTemplates({});
    const inactive = templates
      .find((t) => t.id === 'repeat-purchasers-inactive')
      ?.parameters.find((p) => p.name === 'inactive_days');
    expect(inactive).toMatchObject({ minimum: 1, maximum: 36_600 });
  });
});
