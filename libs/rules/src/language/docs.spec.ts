import { equals, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ReentryPolicySchema, RuleExplanationSchema, RuleSchema } from '@shoal/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateReentryPolicy } from '../evaluation/reentry';
import { PRODUCT_EXAMPLES } from '../testing/examples';
import { validateRule } from './validate';

// docs/rules.md cannot rot: every ```json block must parse (rules as Rule, `json policy` blocks
// as ReentryPolicy, `json explanation` blocks as RuleExplanation) and be valid, and every
// product example of the test suite must appear in it verbatim (as the same message).

const markdown = readFileSync(join(__dirname, '../../../../docs/rules.md'), 'utf8');
const blocks = [...markdown.matchAll(/```json( \w+)?\n([\s\S]*?)```/g)].map((match) => ({
  kind: (match[1] ?? '').trim(),
  line: markdown.slice(0, match.index).split('\n').length,
  json: JSON.parse(match[2] as string) as JsonValue,
}));
const rules = blocks.filter((block) => block.kind === '');

describe('docs/rules.md', () => {
  it('has rule examples to check', () => {
    expect(rules.length).toBeGreaterThan(60);
  });

  it.each(rules.map((block) => [block.line, block.json] as const))(
    'the rule at line %i parses and is valid',
    (_line, json) => {
      const rule = fromJson(RuleSchema, json);
      expect(validateRule({ rule }).violations).toEqual([]);
    },
  );

  it('has valid re-entry policy and explanation examples', () => {
    const policies = blocks.filter((block) => block.kind === 'policy');
    expect(policies).toHaveLength(3);
    for (const block of policies)
      expect(validateReentryPolicy(fromJson(ReentryPolicySchema, block.json))).toEqual([]);
    const explanations = blocks.filter((block) => block.kind === 'explanation');
    expect(explanations).toHaveLength(1);
    for (const block of explanations)
      expect(() => fromJson(RuleExplanationSchema, block.json)).not.toThrow();
    expect(blocks.every((block) => ['', 'policy', 'explanation'].includes(block.kind))).toBe(true);
  });

  it.each(Object.entries(PRODUCT_EXAMPLES))('shows the product example %s', (_name, example) => {
    const expected = fromJson(RuleSchema, example.json);
    expect(
      rules.some((block) => equals(RuleSchema, fromJson(RuleSchema, block.json), expected)),
    ).toBe(true);
  });
});
