import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { RuleSchema } from '@shoal/contracts';
import { compile, validateRule, type RuleEvent } from '@shoal/rules';
import { oracle, stateAfter, trackEvent } from '@shoal/rules/testing';
import { TEMPLATES } from './templates';

// Templates that say "has not done X in N days" must take in people who never did X at all.

function templateRule(id: string) {
  const template = TEMPLATES.find((candidate) => candidate.id === id);
  if (template === undefined) throw new Error(`no template ${id}`);
  const values: Record<string, JsonValue> = Object.fromEntries(
    template.parameters.map((p) => [p.name, p.defaultValue ?? p.exampleValue ?? null]),
  );
  return fromJson(RuleSchema, template.build(values));
}

describe('templates', () => {
  it.each(TEMPLATES.map((template) => template.id))('%s builds a valid rule', (id) => {
    expect(validateRule({ rule: templateRule(id) }).violations).toEqual([]);
  });

  it.each<[string, string, RuleEvent[], JsonObject]>([
    [
      'repeat-purchasers-inactive',
      'a repeat buyer who never visited a page',
      [
        trackEvent('Order Completed', '2024-05-01T10:00:00Z', { total: 500 }),
        trackEvent('Order Completed', '2024-05-20T10:00:00Z', { total: 400 }),
      ],
      { marketing_consent: true },
    ],
    [
      'category-buyers-no-email-opens',
      'a buyer of the category last year who never opened an email',
      [
        trackEvent('Order Completed', '2023-11-20T10:00:00Z', {
          products: [{ category: 'Winter Apparel' }],
        }),
      ],
      {},
    ],
  ])('%s takes in %s', (id, _who, events, traits) => {
    const rule = templateRule(id);
    const now = Date.parse('2024-06-01T00:00:00Z');
    const state = stateAfter({ rule, events, init: { traits } });
    expect(compile({ rule })(state, now)).toBe(true);
    expect(
      oracle({ rule, history: { traits, tags: [], lists: [], segments: {}, events }, now }),
    ).toBe(true);
  });
});
