import { create, toJson } from '@bufbuild/protobuf';
import { RuleSchema, SegmentDraftSchema, SegmentKind } from '@shoal/contracts';
import { ErrorKind } from '@shoal/platform';
import {
  TEST_LIMITS,
  ann,
  newSegmentsTestService,
  refusal,
} from '../../test/segments-test-service';
import { TemplatesService } from './templates.service';

const setup = (limits = TEST_LIMITS) =>
  newSegmentsTestService(TemplatesService, { limits, providers: [TemplatesService] });

describe('templates', () => {
  it('creates the caller’s dynamic segment from a template, its rule built from the parameters', async () => {
    const { sut: templates } = await setup();
    const segment = await templates.create({
      templateId: 'content-readers',
      parameters: { topic: 'pensions' },
      draft: create(SegmentDraftSchema, { name: 'Pension readers', tags: ['content'] }),
      asDraft: false,
      principal: ann,
    });
    expect([segment.kind, segment.owner, segment.name, segment.tags]).toEqual([
      SegmentKind.DYNAMIC,
      'ann',
      'Pension readers',
      ['content'],
    ]);
    expect(JSON.stringify(toJson(RuleSchema, segment.rule!))).toContain('"pensions"');
  });

  it('refuses a template segment without a name as invalid input', async () => {
    const { sut: templates } = await setup();
    const unnamed = await refusal(
      templates.create({
        templateId: 'content-readers',
        parameters: { topic: 'pensions' },
        draft: undefined,
        asDraft: false,
        principal: ann,
      }),
    );
    expect(unnamed.violations.map((v) => v.field)).toEqual(['segment.name']);
  });

  it('refuses a template that does not exist', async () => {
    const { sut: templates } = await setup();
    const refused = await refusal(
      templates.create({
        templateId: 'nope',
        parameters: {},
        draft: undefined,
        asDraft: false,
        principal: ann,
      }),
    );
    expect([refused.kind, refused.reason]).toEqual([ErrorKind.NotFound, 'TEMPLATE_NOT_FOUND']);
  });

  it('refuses unknown, missing and out-of-bound parameters, each at its name', async () => {
    const { sut: templates } = await setup();
    const refused = await refusal(
      templates.create({
        templateId: 'content-readers',
        parameters: { colour: 'red', min_views: 0 },
        draft: undefined,
        asDraft: false,
        principal: ann,
      }),
    );
    expect([refused.kind, refused.reason]).toEqual([ErrorKind.InvalidArgument, 'INVALID_ARGUMENT']);
    expect(refused.violations.map((v) => v.field).sort()).toEqual([
      'parameters.colour',
      'parameters.min_views',
      'parameters.topic',
    ]);
  });

  it('tells each parameter’s bounds as the configured limits make them', async () => {
    const limits = { ...TEST_LIMITS, rule: { ...TEST_LIMITS.rule, maxHistoryDays: 400 } };
    const { sut: templates } = await setup(limits);
    const days = templates
      .list()
      .find((t) => t.id === 'category-buyers-no-email-opens')
      ?.parameters.find((p) => p.name === 'no_email_days');
    expect([days?.minimum, days?.maximum]).toEqual([1, 400]);
  });
});
