/**
 * The rule builder's model: a tree of conditions the forms edit, mapped to and from the rule's
 * JSON form (the proto3 JSON of shoal.v1.Rule, docs/rules.md). Operands keep their JSON shape,
 * so every operator of the language maps one to one and nothing a form does not show is lost.
 */

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const GROUP_OPS = ['all', 'any', 'none'] as const;
export type GroupOp = (typeof GROUP_OPS)[number];

export const REFERENCE_KINDS = [
  'inSegment',
  'notInSegment',
  'inList',
  'notInList',
  'hasTag',
  'lacksTag',
] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/** FieldCondition operators, in the order the form offers them. */
export const FIELD_OPERATORS = [
  'equals',
  'notEquals',
  'in',
  'notIn',
  'contains',
  'notContains',
  'startsWith',
  'endsWith',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'before',
  'after',
  'withinLast',
  'withinNext',
  'during',
  'calendar',
  'anniversary',
  'afterTrait',
] as const;
export type FieldOperator = (typeof FIELD_OPERATORS)[number];

/** EventCondition measures. */
export const MEASURES = [
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'distinctCount',
  'firstSeen',
  'lastSeen',
] as const;
export type Measure = (typeof MEASURES)[number];

/** One test of a trait or an event property (FieldCondition). */
export interface FieldTest {
  readonly path: string;
  readonly caseInsensitive: boolean;
  readonly allElements: boolean;
  readonly operator?: FieldOperator;
  readonly operand?: JsonValue;
}

export interface SequenceStep {
  readonly event: string;
  readonly where: readonly FieldTest[];
}

export interface FollowUp {
  readonly event: string;
  readonly where: readonly FieldTest[];
  readonly within?: JsonObject;
}

export type BuilderNode =
  | {
      readonly id: string;
      readonly kind: 'group';
      readonly op: GroupOp;
      readonly children: readonly BuilderNode[];
    }
  | { readonly id: string; readonly kind: 'trait'; readonly test: FieldTest }
  | {
      readonly id: string;
      readonly kind: 'event';
      readonly name: string;
      readonly where: readonly FieldTest[];
      readonly window?: JsonObject;
      readonly measure?: Measure;
      readonly measureValue?: JsonObject;
    }
  | {
      readonly id: string;
      readonly kind: 'sequence';
      readonly steps: readonly SequenceStep[];
      readonly maxGap?: JsonObject;
      readonly within?: JsonObject;
      readonly window?: JsonObject;
      readonly notFollowedBy?: FollowUp;
    }
  | { readonly id: string; readonly kind: ReferenceKind; readonly value: string }
  | {
      readonly id: string;
      readonly kind: 'contacts';
      readonly where?: BuilderNode;
      readonly count?: JsonObject;
    };

export type NodeKind = BuilderNode['kind'];

/** A whole rule in the builder: its condition tree and the rule-level settings. */
export interface RuleDraft {
  readonly condition?: BuilderNode;
  readonly timeZone: string;
  readonly audience: string;
}

/** A rule the builder cannot read, with where it went wrong. */
export class RuleShapeError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

let lastId = 0;
/** A key for a node, stable while it is edited (React keys, error placement). */
export const newNodeId = (): string => `n${++lastId}`;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const objectAt = (value: unknown, path: string): JsonObject => {
  if (!isObject(value)) throw new RuleShapeError(path, 'must be an object');
  return value;
};

const optionalObject = (value: JsonValue | undefined, path: string): JsonObject | undefined =>
  value === undefined ? undefined : objectAt(value, path);

const stringAt = (value: unknown, path: string): string => {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new RuleShapeError(path, 'must be a string');
  return value;
};

const listAt = (value: unknown, path: string): JsonValue[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RuleShapeError(path, 'must be a list');
  return value;
};

/** The key of an object that names its oneof case, among `cases`; at most one may be set. */
function oneOf<T extends string>(
  object: JsonObject,
  cases: readonly T[],
  path: string,
): T | undefined {
  const set = cases.filter((c) => object[c] !== undefined);
  if (set.length > 1) throw new RuleShapeError(path, `sets ${set.join(' and ')}: choose one`);
  return set[0];
}

// ---- from JSON -------------------------------------------------------------------------------

export function toDraft(rule: JsonValue): RuleDraft {
  const object = objectAt(rule, 'rule');
  const known = ['condition', 'timeZone', 'audience'];
  const unknown = Object.keys(object).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new RuleShapeError('rule', `unknown field ${unknown[0]}`);
  return {
    ...(object.condition !== undefined ? { condition: toNode(object.condition, 'condition') } : {}),
    timeZone: stringAt(object.timeZone, 'timeZone'),
    audience: stringAt(object.audience, 'audience'),
  };
}

const CONDITION_KINDS = [
  ...GROUP_OPS,
  'trait',
  'event',
  'sequence',
  ...REFERENCE_KINDS,
  'contacts',
] as const;

export function toNode(json: JsonValue, path: string): BuilderNode {
  const object = objectAt(json, path);
  const unknown = Object.keys(object).filter(
    (k) => !(CONDITION_KINDS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) throw new RuleShapeError(path, `unknown condition ${unknown[0]}`);
  const kind = oneOf(object, CONDITION_KINDS, path);
  if (!kind) throw new RuleShapeError(path, 'a condition needs one kind');
  const value = object[kind] as JsonValue;
  const at = `${path}.${kind}`;
  const id = newNodeId();
  switch (kind) {
    case 'all':
    case 'any':
    case 'none': {
      const group = objectAt(value, at);
      return {
        id,
        kind: 'group',
        op: kind,
        children: listAt(group.conditions, `${at}.conditions`).map((c, i) =>
          toNode(c, `${at}.conditions[${i}]`),
        ),
      };
    }
    case 'trait':
      return { id, kind: 'trait', test: toFieldTest(value, at) };
    case 'event': {
      const event = objectAt(value, at);
      const measure = oneOf(event, MEASURES, at);
      return {
        id,
        kind: 'event',
        name: stringAt(event.name, `${at}.name`),
        where: listAt(event.where, `${at}.where`).map((w, i) =>
          toFieldTest(w, `${at}.where[${i}]`),
        ),
        ...(event.window !== undefined ? { window: objectAt(event.window, `${at}.window`) } : {}),
        ...(measure ? { measure, measureValue: objectAt(event[measure], `${at}.${measure}`) } : {}),
      };
    }
    case 'sequence': {
      const sequence = objectAt(value, at);
      const follow = optionalObject(sequence.notFollowedBy, `${at}.notFollowedBy`);
      const maxGap = optionalObject(sequence.maxGap, `${at}.maxGap`);
      const within = optionalObject(sequence.within, `${at}.within`);
      const window = optionalObject(sequence.window, `${at}.window`);
      return {
        id,
        kind: 'sequence',
        steps: listAt(sequence.steps, `${at}.steps`).map((s, i) => {
          const step = objectAt(s, `${at}.steps[${i}]`);
          return {
            event: stringAt(step.event, `${at}.steps[${i}].event`),
            where: listAt(step.where, `${at}.steps[${i}].where`).map((w, j) =>
              toFieldTest(w, `${at}.steps[${i}].where[${j}]`),
            ),
          };
        }),
        ...(maxGap ? { maxGap } : {}),
        ...(within ? { within } : {}),
        ...(window ? { window } : {}),
        ...(follow
          ? {
              notFollowedBy: {
                event: stringAt(follow.event, `${at}.notFollowedBy.event`),
                where: listAt(follow.where, `${at}.notFollowedBy.where`).map((w, j) =>
                  toFieldTest(w, `${at}.notFollowedBy.where[${j}]`),
                ),
                ...(follow.within !== undefined
                  ? { within: objectAt(follow.within, `${at}.notFollowedBy.within`) }
                  : {}),
              },
            }
          : {}),
      };
    }
    case 'contacts': {
      const contacts = objectAt(value, at);
      return {
        id,
        kind: 'contacts',
        ...(contacts.where !== undefined ? { where: toNode(contacts.where, `${at}.where`) } : {}),
        ...(contacts.count !== undefined ? { count: objectAt(contacts.count, `${at}.count`) } : {}),
      };
    }
    default:
      return { id, kind, value: stringAt(value, at) };
  }
}

export function toFieldTest(json: JsonValue, path: string): FieldTest {
  const object = objectAt(json, path);
  const operator = oneOf(object, FIELD_OPERATORS, path);
  return {
    path: stringAt(object.path, `${path}.path`),
    caseInsensitive: object.caseInsensitive === true,
    allElements: object.allElements === true,
    ...(operator ? { operator, operand: object[operator] as JsonValue } : {}),
  };
}

// ---- to JSON ---------------------------------------------------------------------------------

export function toRuleJson(draft: RuleDraft): JsonObject {
  return {
    ...(draft.condition ? { condition: toConditionJson(draft.condition) } : {}),
    ...(draft.timeZone ? { timeZone: draft.timeZone } : {}),
    ...(draft.audience ? { audience: draft.audience } : {}),
  };
}

export function toConditionJson(node: BuilderNode): JsonObject {
  switch (node.kind) {
    case 'group':
      return {
        [node.op]:
          node.children.length > 0 ? { conditions: node.children.map(toConditionJson) } : {},
      };
    case 'trait':
      return { trait: fieldTestJson(node.test) };
    case 'event':
      return {
        event: {
          ...(node.name ? { name: node.name } : {}),
          ...(node.where.length > 0 ? { where: node.where.map(fieldTestJson) } : {}),
          ...(node.window ? { window: node.window } : {}),
          ...(node.measure ? { [node.measure]: node.measureValue ?? {} } : {}),
        },
      };
    case 'sequence':
      return {
        sequence: {
          ...(node.steps.length > 0
            ? {
                steps: node.steps.map((s) => ({
                  ...(s.event ? { event: s.event } : {}),
                  ...(s.where.length > 0 ? { where: s.where.map(fieldTestJson) } : {}),
                })),
              }
            : {}),
          ...(node.maxGap ? { maxGap: node.maxGap } : {}),
          ...(node.within ? { within: node.within } : {}),
          ...(node.window ? { window: node.window } : {}),
          ...(node.notFollowedBy
            ? {
                notFollowedBy: {
                  ...(node.notFollowedBy.event ? { event: node.notFollowedBy.event } : {}),
                  ...(node.notFollowedBy.where.length > 0
                    ? { where: node.notFollowedBy.where.map(fieldTestJson) }
                    : {}),
                  ...(node.notFollowedBy.within ? { within: node.notFollowedBy.within } : {}),
                },
              }
            : {}),
        },
      };
    case 'contacts':
      return {
        contacts: {
          ...(node.where ? { where: toConditionJson(node.where) } : {}),
          ...(node.count ? { count: node.count } : {}),
        },
      };
    case 'inSegment':
    case 'notInSegment':
    case 'inList':
    case 'notInList':
    case 'hasTag':
    case 'lacksTag':
      return { [node.kind]: node.value };
  }
}

export function fieldTestJson(test: FieldTest): JsonObject {
  return {
    ...(test.path ? { path: test.path } : {}),
    ...(test.caseInsensitive ? { caseInsensitive: true } : {}),
    ...(test.allElements ? { allElements: true } : {}),
    ...(test.operator && test.operand !== undefined ? { [test.operator]: test.operand } : {}),
  };
}

// ---- editing ---------------------------------------------------------------------------------

/** A new condition of a kind, with sensible first values. */
export function newNode(kind: NodeKind): BuilderNode {
  const id = newNodeId();
  switch (kind) {
    case 'group':
      return { id, kind, op: 'all', children: [] };
    case 'trait':
      return { id, kind, test: newFieldTest() };
    case 'event':
      return { id, kind, name: '', where: [], measure: 'count', measureValue: { gte: 1 } };
    case 'sequence':
      return { id, kind, steps: [{ event: '', where: [] }] };
    case 'contacts':
      return { id, kind, where: newNode('trait'), count: { gte: 1 } };
    default:
      return { id, kind, value: '' };
  }
}

export const newFieldTest = (): FieldTest => ({
  path: '',
  caseInsensitive: false,
  allElements: false,
  operator: 'equals',
  operand: '',
});

/** The tree with the node of `id` replaced (or removed, when `replacement` is undefined). */
export function replaceNode(
  node: BuilderNode,
  id: string,
  replacement: BuilderNode | undefined,
): BuilderNode | undefined {
  if (node.id === id) return replacement;
  if (node.kind === 'group') {
    const children = node.children.flatMap((c) => {
      const next = replaceNode(c, id, replacement);
      return next ? [next] : [];
    });
    return { ...node, children };
  }
  if (node.kind === 'contacts' && node.where) {
    const where = replaceNode(node.where, id, replacement);
    const { where: _, ...rest } = node;
    return where ? { ...node, where } : rest;
  }
  return node;
}

/** Each node's path in the rule's JSON form ("condition.all.conditions[1]"), by node id. */
export function nodePaths(node: BuilderNode, path = 'condition'): Map<string, string> {
  const paths = new Map<string, string>([[node.id, path]]);
  if (node.kind === 'group')
    node.children.forEach((child, i) => {
      for (const [id, p] of nodePaths(child, `${path}.${node.op}.conditions[${i}]`))
        paths.set(id, p);
    });
  if (node.kind === 'contacts' && node.where)
    for (const [id, p] of nodePaths(node.where, `${path}.contacts.where`)) paths.set(id, p);
  return paths;
}

/**
 * Places each violation on the deepest condition its field path names. Paths come from the
 * services as "segment.rule.condition…" or "rule.condition…"; those not inside the condition
 * tree (time zone, name) are returned under the empty key.
 */
export function violationsByNode(
  root: BuilderNode | undefined,
  violations: readonly { field: string; description: string }[],
): Map<string, { field: string; description: string }[]> {
  const placed = new Map<string, { field: string; description: string }[]>();
  const paths = root ? [...nodePaths(root)] : [];
  for (const violation of violations) {
    const field = violation.field.replace(/^(segment\.)?rule\./, '');
    const owner = paths
      .filter(([, p]) => field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`))
      .sort((a, b) => b[1].length - a[1].length)[0];
    const key = owner ? owner[0] : '';
    placed.set(key, [...(placed.get(key) ?? []), violation]);
  }
  return placed;
}

/** A copy of `object` without `key` (optional fields are absent, never undefined). */
export function without<T extends object, K extends keyof T>(object: T, key: K): Omit<T, K> {
  const copy = { ...object };
  delete copy[key];
  return copy;
}
