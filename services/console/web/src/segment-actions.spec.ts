import { create, fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  SegmentTemplateSchema,
  SegmentUsageSchema,
  TemplateParameterType,
  UsageKind,
} from '@shoal/contracts';
import { defaultText, templateInput, usageLines } from './segment-actions';

const usage = (fields: Parameters<typeof create<typeof SegmentUsageSchema>>[1]) =>
  create(SegmentUsageSchema, fields);

describe('usage lines', () => {
  it('names the segments and destinations that use a segment, auto-syncing ones as locking it', () => {
    expect(
      usageLines([
        usage({ kind: UsageKind.SEGMENT, id: 's1', name: 'Big spenders' }),
        usage({ kind: UsageKind.DESTINATION, id: 'd1', name: 'CRM', autoSync: true }),
        usage({ kind: UsageKind.DESTINATION, id: 'd2', name: 'Warehouse' }),
      ]),
    ).toEqual([
      'segment “Big spenders”',
      'destination “CRM” (auto-syncing: it locks the segment)',
      'destination “Warehouse”',
    ]);
  });

  it('counts the segments the caller cannot see without naming them', () => {
    expect(
      usageLines([
        usage({ kind: UsageKind.SEGMENT }),
        usage({ kind: UsageKind.SEGMENT, id: 's1', name: 'Mine' }),
        usage({ kind: UsageKind.SEGMENT }),
      ]),
    ).toEqual(['segment “Mine”', '2 segments you cannot see']);
    expect(usageLines([usage({ kind: UsageKind.SEGMENT })])).toEqual(['1 segment you cannot see']);
  });

  it('is empty when nothing uses the segment', () => {
    expect(usageLines([])).toEqual([]);
  });
});

describe('template input', () => {
  const template = create(SegmentTemplateSchema, {
    id: 'content-readers',
    parameters: [
      { name: 'topic', type: TemplateParameterType.STRING, maxLength: 5 },
      {
        name: 'min_views',
        type: TemplateParameterType.INTEGER,
        minimum: 1,
        maximum: 100,
        defaultValue: fromJson(ValueSchema, 3),
      },
      {
        name: 'min_total',
        type: TemplateParameterType.NUMBER,
        defaultValue: fromJson(ValueSchema, 800),
      },
    ],
  });

  it('sends typed values with their types and leaves empty fields to the defaults', () => {
    expect(templateInput(template, { topic: ' tax ', min_views: '7', min_total: '' })).toEqual({
      values: { topic: 'tax', min_views: 7 },
      errors: {},
    });
    expect(templateInput(template, { topic: 'tax', min_total: '12.5' }).values).toEqual({
      topic: 'tax',
      min_total: 12.5,
    });
  });

  it('requires a parameter without a default', () => {
    expect(templateInput(template, {}).errors).toEqual({ topic: 'required' });
  });

  it('refuses what the service would refuse, beside the field', () => {
    expect(
      templateInput(template, { topic: 'pensions', min_views: '2.5', min_total: 'lots' }).errors,
    ).toEqual({
      topic: 'at most 5 characters',
      min_views: 'a whole number',
      min_total: 'a number',
    });
    expect(templateInput(template, { topic: 'tax', min_views: '0' }).errors).toEqual({
      min_views: 'at least 1',
    });
    expect(templateInput(template, { topic: 'tax', min_views: '101' }).errors).toEqual({
      min_views: 'at most 100',
    });
  });

  it('shows a default as the text a user would type', () => {
    expect(template.parameters.map(defaultText)).toEqual(['', '3', '800']);
  });
});
