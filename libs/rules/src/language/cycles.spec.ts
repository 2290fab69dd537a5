import type { JsonObject } from '@bufbuild/protobuf';
import type { Rule } from '@shoal/contracts';
import {
  checkSegmentReferences,
  evaluationOrder,
  membershipReferences,
  segmentReferences,
} from './cycles';
import { RuleError, RuleViolationCode as Code } from './errors';
import { ruleFromJson } from '../testing/arbitraries';
import { validateRule } from './validate';

const refersTo = (...ids: string[]): Rule =>
  ruleFromJson({ condition: { any: { conditions: ids.map((id) => ({ inSegment: id })) } } });

function lookupFrom(rules: Record<string, Rule>) {
  return (id: string): Rule | undefined => rules[id];
}

describe('segment references', () => {
  it('lists the segments a rule reads, with their paths, including those inside contacts conditions', () => {
    const rule = ruleFromJson({
      audience: 'AUDIENCE_ACCOUNTS',
      condition: {
        all: {
          conditions: [
            { inSegment: 'big-accounts' },
            { contacts: { where: { notInSegment: 'churned' }, count: { gte: 2 } } },
          ],
        },
      },
    });
    expect(segmentReferences(rule)).toEqual([
      {
        kind: 'segment',
        segmentId: 'big-accounts',
        path: 'condition.all.conditions[0].inSegment',
        audience: 'accounts',
      },
      {
        kind: 'segment',
        segmentId: 'churned',
        path: 'condition.all.conditions[1].contacts.where.notInSegment',
        audience: 'profiles',
      },
    ]);
  });

  it('finds list references with their paths, even in a rule that does not validate', () => {
    const rule = ruleFromJson({
      timeZone: 'Nowhere/Never',
      condition: {
        any: { conditions: [{ inList: 'vips' }, { notInList: 'blocked' }, { inSegment: 's' }] },
      },
    });
    expect(membershipReferences(rule).map((r) => [r.kind, r.segmentId, r.path])).toEqual([
      ['list', 'vips', 'condition.any.conditions[0].inList'],
      ['list', 'blocked', 'condition.any.conditions[1].notInList'],
      ['segment', 's', 'condition.any.conditions[2].inSegment'],
    ]);
  });

  it('rejects a rule whose references lead back to its own segment, naming the cycle', () => {
    const lookup = lookupFrom({ a: refersTo('b'), b: refersTo('c'), c: refersTo() });
    const edited = refersTo('a');
    expect(checkSegmentReferences({ rule: edited, segmentId: 'c', lookupRule: lookup })).toEqual([
      {
        path: 'condition.any.conditions[0].inSegment',
        code: Code.SegmentCycle,
        message: 'segment references form a cycle: c → a → b → c',
      },
    ]);
  });

  it('rejects a segment referring to itself', () => {
    const violations = checkSegmentReferences({
      rule: refersTo('me'),
      segmentId: 'me',
      lookupRule: () => undefined,
    });
    expect(violations.map(({ code, message }) => ({ code, message }))).toEqual([
      { code: Code.SegmentCycle, message: 'segment references form a cycle: me → me' },
    ]);
  });

  it('accepts shared dependencies that form no cycle (a diamond)', () => {
    const lookup = lookupFrom({ b: refersTo('d'), c: refersTo('d'), d: refersTo() });
    expect(
      checkSegmentReferences({ rule: refersTo('b', 'c'), segmentId: 'a', lookupRule: lookup }),
    ).toEqual([]);
  });

  it('terminates on cycles among other segments that do not involve this one', () => {
    const lookup = lookupFrom({ x: refersTo('y'), y: refersTo('x') });
    expect(
      checkSegmentReferences({ rule: refersTo('x'), segmentId: 'new', lookupRule: lookup }),
    ).toEqual([]);
  });

  it('reports unknown segments and segments of the other audience', () => {
    const accounts: JsonObject = { audience: 'AUDIENCE_ACCOUNTS', condition: { hasTag: 'x' } };
    const lookup = lookupFrom({ accountSegment: ruleFromJson(accounts) });
    const codes = checkSegmentReferences({
      rule: refersTo('missing', 'accountSegment'),
      lookupRule: lookup,
    }).map((violation) => violation.code);
    expect(codes).toEqual([Code.UnknownSegment, Code.AudienceMismatch]);
  });

  it('is part of validation when a lookup is given', () => {
    const lookup = lookupFrom({ a: refersTo('self') });
    const result = validateRule({ rule: refersTo('a'), segmentId: 'self', lookupRule: lookup });
    expect(result.valid).toBe(false);
    expect(result.violations[0]?.code).toBe(Code.SegmentCycle);
  });
});

describe('evaluationOrder', () => {
  it('puts every segment after the segments it reads', () => {
    const order = evaluationOrder(
      new Map([
        ['a', refersTo('b', 'c')],
        ['b', refersTo('c')],
        ['c', refersTo()],
      ]),
    );
    expect(order).toEqual(['c', 'b', 'a']);
  });

  it('throws a RuleError on a cycle', () => {
    expect(() =>
      evaluationOrder(
        new Map([
          ['a', refersTo('b')],
          ['b', refersTo('a')],
        ]),
      ),
    ).toThrow(RuleError);
  });
});
