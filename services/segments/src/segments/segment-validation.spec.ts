import { create } from '@bufbuild/protobuf';
import {
  Audience,
  RefreshMode,
  ReentryMode,
  SegmentDraftSchema,
  SegmentKind,
  SegmentSchema,
} from '@shoal/contracts';
import { TEST_LIMITS } from '../../test/segments-test-service';
import {
  cronProblem,
  definitionSizeViolations,
  draftViolations,
  nameKey,
} from './segment-validation';

const limits = { ...TEST_LIMITS, nameMaxLength: 10, descriptionMaxLength: 20, tagsMax: 2 };
const rule = { condition: { kind: { case: 'hasTag' as const, value: 'vip' } } };
const fields = (kind: SegmentKind, init: Parameters<typeof create<typeof SegmentDraftSchema>>[1]) =>
  draftViolations({ kind, draft: create(SegmentDraftSchema, init), limits }).map((v) => v.field);

describe('segment drafts', () => {
  it('compares names case-insensitively after trimming and Unicode normalisation', () => {
    expect(nameKey('  VIP Customers ')).toBe(nameKey('vip customers'));
    expect(nameKey('Ｖｉｐ')).toBe(nameKey('vip'));
  });

  it('accepts a complete dynamic segment', () => {
    expect(
      fields(SegmentKind.DYNAMIC, {
        name: 'Buyers',
        rule,
        refresh: { mode: RefreshMode.SCHEDULED, cron: '0 */4 * * *', timeZone: 'Europe/Berlin' },
      }),
    ).toEqual([]);
  });

  it('accepts a scheduled segment without a cron of its own: it follows the default schedule', () => {
    expect(
      fields(SegmentKind.DYNAMIC, { name: 'n', rule, refresh: { mode: RefreshMode.SCHEDULED } }),
    ).toEqual([]);
  });

  it.each([
    ['a missing name', SegmentKind.STATIC_LIST, { name: '  ' }, ['segment.name']],
    ['a name over the limit', SegmentKind.STATIC_LIST, { name: 'x'.repeat(11) }, ['segment.name']],
    [
      'a control character in the name',
      SegmentKind.STATIC_LIST,
      { name: 'a\u0007b' },
      ['segment.name'],
    ],
    [
      'a long description',
      SegmentKind.STATIC_LIST,
      { name: 'n', description: 'd'.repeat(21) },
      ['segment.description'],
    ],
    [
      'too many tags',
      SegmentKind.STATIC_LIST,
      { name: 'n', tags: ['a', 'b', 'c'] },
      ['segment.tags'],
    ],
    ['an empty tag', SegmentKind.STATIC_LIST, { name: 'n', tags: [''] }, ['segment.tags[0]']],
    ['duplicate tags', SegmentKind.STATIC_LIST, { name: 'n', tags: ['a', 'a'] }, ['segment.tags']],
    ['a static list with a rule', SegmentKind.STATIC_LIST, { name: 'n', rule }, ['segment.rule']],
    ['a dynamic segment without a rule', SegmentKind.DYNAMIC, { name: 'n' }, ['segment.rule']],
    [
      'cron on a real-time segment',
      SegmentKind.DYNAMIC,
      { name: 'n', rule, refresh: { mode: RefreshMode.REALTIME, cron: '* * * * *' } },
      ['segment.refresh.cron'],
    ],
    [
      'an unknown refresh time zone',
      SegmentKind.DYNAMIC,
      { name: 'n', rule, refresh: { timeZone: 'Moon/Base' } },
      ['segment.refresh.timeZone'],
    ],
    [
      'a rule for another audience',
      SegmentKind.DYNAMIC,
      { name: 'n', audience: Audience.PROFILES, rule: { ...rule, audience: Audience.ACCOUNTS } },
      ['segment.rule.audience'],
    ],
    [
      'a hidden-from list naming too many',
      SegmentKind.STATIC_LIST,
      { name: 'n', hiddenFrom: { subjects: Array.from({ length: 101 }, (_, i) => `u${i}`) } },
      ['segment.hiddenFrom.subjects'],
    ],
    [
      'an empty editor group',
      SegmentKind.STATIC_LIST,
      { name: 'n', editors: { groups: ['ok', ''] } },
      ['segment.editors.groups[1]'],
    ],
    [
      'an editor name of a megabyte',
      SegmentKind.STATIC_LIST,
      { name: 'n', editors: { subjects: ['x'.repeat(1 << 20)] } },
      ['segment.editors.subjects[0]'],
    ],
    [
      'a cron expression of a megabyte',
      SegmentKind.DYNAMIC,
      {
        name: 'n',
        rule,
        refresh: { mode: RefreshMode.SCHEDULED, cron: `0 * * * ${'1,'.repeat(1 << 19)}1` },
      },
      ['segment.refresh.cron'],
    ],
    [
      'a cool-down without its duration',
      SegmentKind.DYNAMIC,
      { name: 'n', rule, reentry: { mode: ReentryMode.COOL_DOWN } },
      ['segment.reentry.coolDown'],
    ],
    [
      'a value trait path with an empty segment',
      SegmentKind.DYNAMIC,
      { name: 'n', rule, valueTrait: 'orders..total' },
      ['segment.valueTrait'],
    ],
    [
      'a value trait of a megabyte',
      SegmentKind.DYNAMIC,
      { name: 'n', rule, valueTrait: 'x'.repeat(1 << 20) },
      ['segment.valueTrait'],
    ],
    [
      'a value trait on a static list',
      SegmentKind.STATIC_LIST,
      { name: 'n', valueTrait: 'lifetime_value' },
      ['segment.valueTrait'],
    ],
  ])('refuses %s', (_, kind, init, expected) => {
    expect(fields(kind, init)).toEqual(expected);
  });

  it('never repeats an over-long value in its message', () => {
    const huge = 'x'.repeat(1 << 20);
    const messages = draftViolations({
      kind: SegmentKind.DYNAMIC,
      draft: create(SegmentDraftSchema, {
        name: 'n',
        rule,
        refresh: { timeZone: huge, cron: huge },
      }),
      limits,
    }).map((v) => v.description);
    expect(messages).toHaveLength(2);
    expect(messages.join().length).toBeLessThan(500);
  });

  it('refuses a definition encoding larger than SEGMENT_DEFINITION_MAX_BYTES as a whole', () => {
    const segment = (description: string) =>
      create(SegmentSchema, { id: 'seg_x', name: 'n', description, rule });
    expect(definitionSizeViolations(segment('short'), limits)).toEqual([]);
    expect(definitionSizeViolations(segment('d'.repeat(3000)), limits)).toEqual([
      {
        field: 'segment',
        description: expect.stringMatching(
          /^the definition is 30\d\d bytes encoded; the limit SEGMENT_DEFINITION_MAX_BYTES is 2048$/,
        ),
      },
    ]);
  });

  it('needs a segment kind', () => {
    expect(
      draftViolations({
        kind: SegmentKind.UNSPECIFIED,
        draft: create(SegmentDraftSchema, { name: 'n' }),
        limits,
      }).map((v) => v.field),
    ).toEqual(['kind']);
  });

  it('reads five-field cron expressions only', () => {
    expect(cronProblem('0 */4 * * *', 'UTC')).toBeUndefined();
    expect(cronProblem('*/5 * * * * *', '')).toMatch(/five fields/);
    expect(cronProblem('61 * * * *', '')).toMatch(/not a valid cron/);
  });
});
