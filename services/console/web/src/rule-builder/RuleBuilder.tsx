import {
  ActionIcon,
  Alert,
  Button,
  Checkbox,
  Fieldset,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
} from '@mantine/core';
import { useState } from 'react';
import {
  type BuilderNode,
  FIELD_OPERATORS,
  type FieldOperator,
  type FieldTest,
  type JsonObject,
  type JsonValue,
  MEASURES,
  type Measure,
  type NodeKind,
  REFERENCE_KINDS,
  type RuleDraft,
  type SequenceStep,
  newFieldTest,
  newNode,
  nodePaths,
  violationsByNode,
  without,
} from './model';
import {
  ComparisonEditor,
  ListInput,
  ScalarInput,
  SpanEditor,
  TIME_OPERATORS,
  TimeConditionEditor,
  TimeOperatorEditor,
  WindowEditor,
  defaultTimeOperand,
} from './operands';

type Violation = { field: string; description: string };

const KIND_LABELS: Record<NodeKind, string> = {
  group: 'Group (all / any / none)',
  trait: 'Trait',
  event: 'Event',
  sequence: 'Sequence / abandonment',
  inSegment: 'In segment',
  notInSegment: 'Not in segment',
  inList: 'On list',
  notInList: 'Not on list',
  hasTag: 'Has tag',
  lacksTag: 'Lacks tag',
  contacts: 'Contacts (accounts)',
};
const KINDS = (Object.keys(KIND_LABELS) as NodeKind[]).map((k) => ({
  value: k,
  label: KIND_LABELS[k],
}));

const OPERATOR_LABELS: Record<FieldOperator, string> = {
  equals: 'equals',
  notEquals: 'does not equal',
  in: 'is one of',
  notIn: 'is none of',
  contains: 'contains',
  notContains: 'does not contain',
  startsWith: 'starts with',
  endsWith: 'ends with',
  exists: 'exists',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  between: 'between',
  before: 'before',
  after: 'after',
  withinLast: 'within the last',
  withinNext: 'within the next',
  during: 'during',
  calendar: 'in calendar period',
  anniversary: 'anniversary within',
  afterTrait: 'after date trait',
};
const OPERATORS = FIELD_OPERATORS.map((o) => ({ value: o, label: OPERATOR_LABELS[o] }));

const MEASURE_LABELS: Record<Measure, string> = {
  count: 'count',
  sum: 'sum of a property',
  avg: 'average of a property',
  min: 'minimum of a property',
  max: 'maximum of a property',
  distinctCount: 'distinct values of a property',
  firstSeen: 'first seen',
  lastSeen: 'last seen',
};
const MEASURE_OPTIONS = MEASURES.map((m) => ({ value: m, label: MEASURE_LABELS[m] }));

const REFERENCE_LABELS: Record<(typeof REFERENCE_KINDS)[number], string> = {
  inSegment: 'Segment id',
  notInSegment: 'Segment id',
  inList: 'List id',
  notInList: 'List id',
  hasTag: 'Tag',
  lacksTag: 'Tag',
};

/** The rule builder: the condition tree as forms, and the rule-level settings. */
export function RuleBuilder({
  draft,
  onChange,
  violations,
}: {
  draft: RuleDraft;
  onChange: (draft: RuleDraft) => void;
  violations: readonly Violation[];
}) {
  const placed = violationsByNode(draft.condition, violations);
  const paths = draft.condition ? nodePaths(draft.condition) : new Map<string, string>();
  const setCondition = (condition: BuilderNode | undefined) => {
    const rest = without(draft, 'condition');
    onChange(condition ? { ...rest, condition } : rest);
  };
  return (
    <Stack gap="sm">
      {draft.condition ? (
        <ConditionEditor
          node={draft.condition}
          onChange={setCondition}
          placed={placed}
          paths={paths}
        />
      ) : (
        <AddCondition
          label="Add the first condition"
          onAdd={(kind) => setCondition(newNode(kind))}
        />
      )}
      <ViolationList violations={placed.get('') ?? []} />
      <Group>
        <TextInput
          label="Time zone"
          description="IANA zone for calendar periods and dates; empty is UTC"
          value={draft.timeZone}
          onChange={(e) => onChange({ ...draft, timeZone: e.currentTarget.value })}
        />
        <Select
          label="Audience"
          data={[
            { value: '', label: 'profiles' },
            { value: 'AUDIENCE_ACCOUNTS', label: 'accounts' },
          ]}
          value={draft.audience === 'AUDIENCE_PROFILES' ? '' : draft.audience}
          onChange={(a) => onChange({ ...draft, audience: a ?? '' })}
          allowDeselect={false}
        />
      </Group>
    </Stack>
  );
}

function ViolationList({ violations }: { violations: readonly Violation[] }) {
  if (violations.length === 0) return null;
  return (
    <Alert color="red" role="alert" p="xs">
      {violations.map((v) => (
        <Text size="sm" key={`${v.field}:${v.description}`}>
          <code>{v.field}</code>: {v.description}
        </Text>
      ))}
    </Alert>
  );
}

function AddCondition({ label, onAdd }: { label: string; onAdd: (kind: NodeKind) => void }) {
  const [kind, setKind] = useState<NodeKind>('trait');
  return (
    <Group gap="xs" align="end">
      <Select
        label="New condition kind"
        data={KINDS}
        value={kind}
        onChange={(k) => k && setKind(k as NodeKind)}
        allowDeselect={false}
        w={230}
      />
      <Button variant="light" onClick={() => onAdd(kind)}>
        {label}
      </Button>
    </Group>
  );
}

interface EditorProps<N extends BuilderNode = BuilderNode> {
  node: N;
  onChange: (node: BuilderNode | undefined) => void;
  placed: Map<string, Violation[]>;
  paths: Map<string, string>;
}

function ConditionEditor({ node, onChange, placed, paths }: EditorProps) {
  const violations = placed.get(node.id) ?? [];
  return (
    <Fieldset
      legend={KIND_LABELS[node.kind]}
      data-path={paths.get(node.id)}
      data-kind={node.kind}
      aria-invalid={violations.length > 0}
      style={violations.length > 0 ? { borderColor: 'var(--mantine-color-red-6)' } : undefined}
    >
      <Stack gap="xs">
        <Group justify="space-between" align="end">
          <Select
            label="Condition kind"
            data={KINDS}
            value={node.kind}
            onChange={(k) =>
              k && k !== node.kind && onChange({ ...newNode(k as NodeKind), id: node.id })
            }
            allowDeselect={false}
            w={230}
          />
          <Button variant="subtle" color="red" size="xs" onClick={() => onChange(undefined)}>
            Remove condition
          </Button>
        </Group>
        <ConditionBody node={node} onChange={onChange} placed={placed} paths={paths} />
        <ViolationList violations={violations} />
      </Stack>
    </Fieldset>
  );
}

function ConditionBody(props: EditorProps) {
  const { node, onChange, placed, paths } = props;
  switch (node.kind) {
    case 'group':
      return (
        <Stack gap="xs">
          <SegmentedControl
            aria-label="Group operator"
            data={[
              { value: 'all', label: 'all of' },
              { value: 'any', label: 'any of' },
              { value: 'none', label: 'none of' },
            ]}
            value={node.op}
            onChange={(op) => onChange({ ...node, op: op as typeof node.op })}
          />
          {node.children.map((child, i) => (
            <ConditionEditor
              key={child.id}
              node={child}
              placed={placed}
              paths={paths}
              onChange={(next) =>
                onChange({
                  ...node,
                  children: next
                    ? node.children.map((c, j) => (j === i ? next : c))
                    : node.children.filter((_, j) => j !== i),
                })
              }
            />
          ))}
          <AddCondition
            label="Add condition"
            onAdd={(kind) => onChange({ ...node, children: [...node.children, newNode(kind)] })}
          />
        </Stack>
      );
    case 'trait':
      return (
        <FieldTestEditor
          test={node.test}
          pathLabel="Trait path"
          onChange={(test) => onChange({ ...node, test })}
        />
      );
    case 'event':
      return (
        <Stack gap="xs">
          <TextInput
            label="Event name"
            value={node.name}
            onChange={(e) => onChange({ ...node, name: e.currentTarget.value })}
            w={260}
          />
          <WhereList where={node.where} onChange={(where) => onChange({ ...node, where })} />
          <Group gap="xs" align="end">
            <Select
              label="Measure"
              data={MEASURE_OPTIONS}
              value={node.measure ?? null}
              onChange={(m) =>
                m &&
                onChange({
                  ...node,
                  measure: m as Measure,
                  measureValue:
                    m === 'firstSeen' || m === 'lastSeen'
                      ? { withinLast: { days: 30 } }
                      : m === 'count'
                        ? { gte: 1 }
                        : { property: '', gt: 0 },
                })
              }
              allowDeselect={false}
              w={220}
            />
            {(node.measure === 'firstSeen' || node.measure === 'lastSeen') && (
              <TimeConditionEditor
                value={node.measureValue}
                onChange={(v) => onChange({ ...node, measureValue: v })}
              />
            )}
            {node.measure && node.measure !== 'firstSeen' && node.measure !== 'lastSeen' && (
              <ComparisonEditor
                value={node.measureValue}
                withProperty={node.measure !== 'count'}
                onChange={(v) => onChange({ ...node, measureValue: v })}
              />
            )}
          </Group>
          <WindowEditor
            value={node.window}
            onChange={(window) => {
              const rest = without(node, 'window');
              onChange(window ? { ...rest, window } : rest);
            }}
          />
        </Stack>
      );
    case 'sequence':
      return (
        <SequenceEditor {...(props as EditorProps<Extract<BuilderNode, { kind: 'sequence' }>>)} />
      );
    case 'contacts':
      return (
        <Stack gap="xs">
          <Text size="sm">Contacts of the account who meet:</Text>
          {node.where ? (
            <ConditionEditor
              node={node.where}
              placed={placed}
              paths={paths}
              onChange={(where) => {
                const rest = without(node, 'where');
                onChange(where ? { ...rest, where } : rest);
              }}
            />
          ) : (
            <AddCondition
              label="Add condition"
              onAdd={(kind) => onChange({ ...node, where: newNode(kind) })}
            />
          )}
          <ComparisonEditor value={node.count} onChange={(count) => onChange({ ...node, count })} />
        </Stack>
      );
    default:
      return (
        <TextInput
          label={REFERENCE_LABELS[node.kind]}
          value={node.value}
          onChange={(e) => onChange({ ...node, value: e.currentTarget.value })}
          w={260}
        />
      );
  }
}

function SequenceEditor({
  node,
  onChange,
}: EditorProps<Extract<BuilderNode, { kind: 'sequence' }>>) {
  const setStep = (i: number, step: SequenceStep | undefined) =>
    onChange({
      ...node,
      steps: step
        ? node.steps.map((s, j) => (j === i ? step : s))
        : node.steps.filter((_, j) => j !== i),
    });
  const optional = (key: 'maxGap' | 'within', value: JsonObject | undefined) => {
    const rest = without(node, key);
    onChange(value ? { ...rest, [key]: value } : rest);
  };
  const follow = node.notFollowedBy;
  return (
    <Stack gap="xs">
      {node.steps.map((step, i) => (
        <Fieldset key={i} legend={`Step ${i + 1}`} variant="filled">
          <Group align="end">
            <TextInput
              label={`Step ${i + 1} event`}
              value={step.event}
              onChange={(e) => setStep(i, { ...step, event: e.currentTarget.value })}
            />
            <Button variant="subtle" color="red" size="xs" onClick={() => setStep(i, undefined)}>
              Remove step
            </Button>
          </Group>
          <WhereList where={step.where} onChange={(where) => setStep(i, { ...step, where })} />
        </Fieldset>
      ))}
      <Button
        variant="light"
        size="xs"
        w="fit-content"
        onClick={() => onChange({ ...node, steps: [...node.steps, { event: '', where: [] }] })}
      >
        Add step
      </Button>
      <OptionalSpan
        label="Longest gap between steps"
        value={node.maxGap}
        onChange={(v) => optional('maxGap', v)}
      />
      <OptionalSpan
        label="All steps within"
        value={node.within}
        onChange={(v) => optional('within', v)}
      />
      <WindowEditor
        value={node.window}
        onChange={(window) => {
          const rest = without(node, 'window');
          onChange(window ? { ...rest, window } : rest);
        }}
      />
      <Switch
        label="Not followed by (abandonment)"
        checked={!!follow}
        onChange={(e) => {
          const rest = without(node, 'notFollowedBy');
          onChange(
            e.currentTarget.checked
              ? { ...rest, notFollowedBy: { event: '', where: [], within: { days: 1 } } }
              : rest,
          );
        }}
      />
      {follow && (
        <Fieldset legend="Not followed by" variant="filled">
          <TextInput
            label="Follow-up event"
            value={follow.event}
            onChange={(e) =>
              onChange({ ...node, notFollowedBy: { ...follow, event: e.currentTarget.value } })
            }
          />
          <WhereList
            where={follow.where}
            onChange={(where) => onChange({ ...node, notFollowedBy: { ...follow, where } })}
          />
          <OptionalSpan
            label="Within"
            value={follow.within}
            onChange={(within) => {
              const rest = without(follow, 'within');
              onChange({ ...node, notFollowedBy: within ? { ...rest, within } : rest });
            }}
          />
        </Fieldset>
      )}
    </Stack>
  );
}

function OptionalSpan({
  label,
  value,
  onChange,
}: {
  label: string;
  value: JsonObject | undefined;
  onChange: (value: JsonObject | undefined) => void;
}) {
  return (
    <Group align="end">
      <Checkbox
        label={label}
        checked={!!value}
        onChange={(e) => onChange(e.currentTarget.checked ? { hours: 1 } : undefined)}
      />
      {value && <SpanEditor label={label} value={value} onChange={onChange} />}
    </Group>
  );
}

function WhereList({
  where,
  onChange,
}: {
  where: readonly FieldTest[];
  onChange: (where: FieldTest[]) => void;
}) {
  return (
    <Stack gap={4}>
      {where.map((test, i) => (
        <Group key={i} align="end" gap="xs">
          <FieldTestEditor
            test={test}
            pathLabel="Property path"
            onChange={(next) => onChange(where.map((w, j) => (j === i ? next : w)))}
          />
          <ActionIcon
            variant="subtle"
            color="red"
            aria-label="Remove property filter"
            onClick={() => onChange(where.filter((_, j) => j !== i))}
          >
            ×
          </ActionIcon>
        </Group>
      ))}
      <Button
        variant="subtle"
        size="xs"
        w="fit-content"
        onClick={() => onChange([...where, newFieldTest()])}
      >
        Add property filter
      </Button>
    </Stack>
  );
}

function FieldTestEditor({
  test,
  pathLabel,
  onChange,
}: {
  test: FieldTest;
  pathLabel: string;
  onChange: (test: FieldTest) => void;
}) {
  const operator = test.operator ?? 'equals';
  const setOperand = (operand: JsonValue) => onChange({ ...test, operator, operand });
  return (
    <Group gap="xs" align="end" wrap="wrap">
      <TextInput
        label={pathLabel}
        value={test.path}
        onChange={(e) => onChange({ ...test, path: e.currentTarget.value })}
        w={200}
      />
      <Select
        label="Operator"
        data={OPERATORS}
        value={operator}
        onChange={(o) =>
          o &&
          onChange({
            ...test,
            operator: o as FieldOperator,
            operand: defaultOperand(o as FieldOperator),
          })
        }
        allowDeselect={false}
        w={170}
      />
      <OperandEditor operator={operator} operand={test.operand} onChange={setOperand} />
      <Checkbox
        label="ignore case"
        checked={test.caseInsensitive}
        onChange={(e) => onChange({ ...test, caseInsensitive: e.currentTarget.checked })}
      />
      <Checkbox
        label="every element"
        checked={test.allElements}
        onChange={(e) => onChange({ ...test, allElements: e.currentTarget.checked })}
      />
    </Group>
  );
}

function OperandEditor({
  operator,
  operand,
  onChange,
}: {
  operator: FieldOperator;
  operand: JsonValue | undefined;
  onChange: (operand: JsonValue) => void;
}) {
  if (TIME_OPERATORS.includes(operator))
    return <TimeOperatorEditor operator={operator} operand={operand} onChange={onChange} />;
  switch (operator) {
    case 'in':
    case 'notIn':
      return <ListInput label="Values" value={operand} onChange={onChange} />;
    case 'exists':
      return (
        <Switch
          label="exists"
          checked={operand === true}
          onChange={(e) => onChange(e.currentTarget.checked)}
        />
      );
    case 'between': {
      const range = (operand ?? {}) as JsonObject;
      return (
        <Group gap="xs">
          <ScalarInput
            label="Minimum"
            value={range.min}
            onChange={(min) => onChange({ ...range, min })}
          />
          <ScalarInput
            label="Maximum"
            value={range.max}
            onChange={(max) => onChange({ ...range, max })}
          />
        </Group>
      );
    }
    case 'contains':
    case 'notContains':
    case 'startsWith':
    case 'endsWith':
      return (
        <TextInput
          label="Text"
          value={typeof operand === 'string' ? operand : ''}
          onChange={(e) => onChange(e.currentTarget.value)}
          w={180}
        />
      );
    default:
      return <ScalarInput label="Value" value={operand} onChange={onChange} />;
  }
}

function defaultOperand(operator: FieldOperator): JsonValue {
  if (TIME_OPERATORS.includes(operator)) return defaultTimeOperand(operator);
  switch (operator) {
    case 'in':
    case 'notIn':
      return [];
    case 'exists':
      return true;
    case 'between':
      return { min: 0, max: 1 };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return 0;
    default:
      return '';
  }
}
