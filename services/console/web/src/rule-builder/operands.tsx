import { Group, NumberInput, Select, TextInput } from '@mantine/core';
import type { JsonObject, JsonValue } from './model';

/** The one key an operand object sets (its oneof case), and its value. */
export function caseOf(
  object: JsonObject | undefined,
): [string | undefined, JsonValue | undefined] {
  const key = object ? Object.keys(object)[0] : undefined;
  return [key, key && object ? object[key] : undefined];
}

/** A scalar typed into a box: numbers and true / false as such, anything else as text. */
export function parseScalar(text: string): JsonValue {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (trimmed !== '' && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  return text;
}

export const showScalar = (value: JsonValue | undefined): string =>
  value === undefined || value === null
    ? ''
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);

/** What an operand field is given: the operand as the rule holds it, and where an edit goes. */
interface OperandProps<T extends JsonValue = JsonValue> {
  value: JsonValue | undefined;
  onChange: (value: T) => void;
}

/** An operand field with a label of its own. */
interface LabelledOperandProps<T extends JsonValue = JsonValue> extends OperandProps<T> {
  label: string;
}

/** The props of one field of an operand object: an edit of it changes the whole object. */
function fieldOf(object: JsonObject, key: string, onChange: (value: JsonObject) => void) {
  return {
    value: object[key],
    onChange: (value: JsonValue) => onChange({ ...object, [key]: value }),
  };
}

/** Choices whose value is also their label. */
const sameLabel = (values: readonly string[]) => values.map((value) => ({ value, label: value }));

const num = (value: JsonValue | undefined): number | string =>
  typeof value === 'number' ? value : '';

export function ScalarInput({ label, value, onChange }: LabelledOperandProps) {
  return (
    <TextInput
      label={label}
      value={showScalar(value)}
      onChange={(e) => onChange(parseScalar(e.currentTarget.value))}
      w={180}
    />
  );
}

export function ListInput({ label, value, onChange }: LabelledOperandProps) {
  const items = Array.isArray(value) ? value : [];
  return (
    <TextInput
      label={label}
      description="comma-separated"
      value={items.map(showScalar).join(', ')}
      onChange={(e) =>
        onChange(
          e.currentTarget.value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
            .map(parseScalar),
        )
      }
      w={240}
    />
  );
}

export function NumberField({
  label,
  value,
  onChange,
  min,
}: LabelledOperandProps<number> & { min?: number }) {
  return (
    <NumberInput
      label={label}
      value={num(value)}
      onChange={(v) => onChange(typeof v === 'number' ? v : Number(v) || 0)}
      w={130}
      {...(min !== undefined ? { min } : {})}
    />
  );
}

/** A choice of oneof case and its number: {days: 40}, {lastHours: 6}, {year: -1}. */
export function CaseNumber({
  label,
  cases,
  value,
  onChange,
  fallback,
  min,
}: {
  label: string;
  cases: readonly { value: string; label: string }[];
  value: JsonObject | undefined;
  onChange: (value: JsonObject) => void;
  fallback: number;
  min?: number;
}) {
  const [key, amount] = caseOf(value);
  const current = key ?? cases[0]?.value ?? '';
  return (
    <Group gap="xs" align="end">
      <NumberField
        label={label}
        value={amount ?? fallback}
        onChange={(n) => onChange({ [current]: n })}
        {...(min !== undefined ? { min } : {})}
      />
      <Select
        label={`${label} unit`}
        data={cases}
        value={current}
        onChange={(c) => c && onChange({ [c]: typeof amount === 'number' ? amount : fallback })}
        allowDeselect={false}
        w={150}
      />
    </Group>
  );
}

export const SPAN_UNITS = sameLabel(['minutes', 'hours', 'days', 'weeks']);

export function SpanEditor({ label, value, onChange }: LabelledOperandProps<JsonObject>) {
  return (
    <CaseNumber
      label={label}
      cases={SPAN_UNITS}
      value={value as JsonObject | undefined}
      onChange={onChange}
      fallback={1}
      min={1}
    />
  );
}

const CALENDAR_UNITS = sameLabel(['day', 'week', 'month', 'quarter', 'year']);

/** A calendar period relative to the current one: 0 this, -1 the last, 1 the next. */
export function CalendarEditor({ label, value, onChange }: LabelledOperandProps<JsonObject>) {
  return (
    <CaseNumber
      label={`${label} (0 this, -1 last)`}
      cases={CALENDAR_UNITS}
      value={value as JsonObject | undefined}
      onChange={onChange}
      fallback={0}
    />
  );
}

const TIME_POINTS = [
  { value: 'daysAgo', label: 'days ago' },
  { value: 'hoursAgo', label: 'hours ago' },
  { value: 'minutesAgo', label: 'minutes ago' },
  { value: 'weeksAgo', label: 'weeks ago' },
  { value: 'daysFromNow', label: 'days from now' },
  { value: 'hoursFromNow', label: 'hours from now' },
  { value: 'minutesFromNow', label: 'minutes from now' },
  { value: 'weeksFromNow', label: 'weeks from now' },
  { value: 'date', label: 'date (YYYY-MM-DD)' },
  { value: 'at', label: 'instant (ISO 8601)' },
];

export function TimeOperandEditor({ label, value, onChange }: LabelledOperandProps<JsonObject>) {
  const [key, point] = caseOf(value as JsonObject | undefined);
  const kind = key ?? 'daysAgo';
  const textual = kind === 'date' || kind === 'at';
  return (
    <Group gap="xs" align="end">
      {textual ? (
        <TextInput
          label={label}
          value={typeof point === 'string' ? point : ''}
          onChange={(e) => onChange({ [kind]: e.currentTarget.value })}
          w={200}
        />
      ) : (
        <NumberField
          label={label}
          value={point ?? 0}
          min={0}
          onChange={(n) => onChange({ [kind]: n })}
        />
      )}
      <Select
        label={`${label} as`}
        data={TIME_POINTS}
        value={kind}
        onChange={(k) =>
          k &&
          onChange({ [k]: k === 'date' ? '2026-01-01' : k === 'at' ? '2026-01-01T00:00:00Z' : 1 })
        }
        allowDeselect={false}
        w={190}
      />
    </Group>
  );
}

export function TimeRangeEditor({ value, onChange }: OperandProps<JsonObject>) {
  const range = (value ?? {}) as JsonObject;
  return (
    <Group gap="md" align="end">
      <TimeOperandEditor label="From" {...fieldOf(range, 'from', onChange)} />
      <TimeOperandEditor label="To" {...fieldOf(range, 'to', onChange)} />
    </Group>
  );
}

export function TraitAnchorEditor({ value, onChange }: OperandProps<JsonObject>) {
  const anchor = (value ?? {}) as JsonObject;
  return (
    <Group gap="md" align="end">
      <TextInput
        label="Date trait"
        value={typeof anchor.path === 'string' ? anchor.path : ''}
        onChange={(e) => onChange({ ...anchor, path: e.currentTarget.value })}
      />
      <SpanEditor label="Within" {...fieldOf(anchor, 'within', onChange)} />
    </Group>
  );
}

const COMPARISONS = [
  { value: 'gte', label: 'at least' },
  { value: 'gt', label: 'more than' },
  { value: 'eq', label: 'exactly' },
  { value: 'ne', label: 'not' },
  { value: 'lte', label: 'at most' },
  { value: 'lt', label: 'less than' },
  { value: 'between', label: 'between' },
];
const COMPARISON_KEYS = COMPARISONS.map((c) => c.value);

/** A Comparison or PropertyAggregate: an operator and a number (or a range), maybe a property. */
export function ComparisonEditor({
  value,
  onChange,
  withProperty,
}: {
  value: JsonObject | undefined;
  onChange: (value: JsonObject) => void;
  withProperty?: boolean;
}) {
  const current = value ?? {};
  const key = Object.keys(current).find((k) => COMPARISON_KEYS.includes(k)) ?? 'gte';
  const property = typeof current.property === 'string' ? current.property : '';
  const base: JsonObject = withProperty ? { property } : {};
  const range = (current.between ?? {}) as JsonObject;
  const between = (next: JsonObject) => onChange({ ...base, between: next });
  return (
    <Group gap="xs" align="end">
      {withProperty && (
        <TextInput
          label="Property"
          value={property}
          onChange={(e) => onChange({ ...current, property: e.currentTarget.value })}
        />
      )}
      <Select
        label="Comparison"
        data={COMPARISONS}
        value={key}
        onChange={(k) =>
          k &&
          onChange({ ...base, [k]: k === 'between' ? { min: 0, max: 1 } : (current[key] ?? 1) })
        }
        allowDeselect={false}
        w={130}
      />
      {key === 'between' ? (
        <>
          <NumberField label="Minimum" {...fieldOf(range, 'min', between)} />
          <NumberField label="Maximum" {...fieldOf(range, 'max', between)} />
        </>
      ) : (
        <NumberField
          label="Number"
          value={current[key]}
          onChange={(n) => onChange({ ...base, [key]: n })}
        />
      )}
    </Group>
  );
}

const WINDOWS = [
  { value: '', label: 'all time' },
  { value: 'lastMinutes', label: 'last minutes' },
  { value: 'lastHours', label: 'last hours' },
  { value: 'lastDays', label: 'last days' },
  { value: 'lastWeeks', label: 'last weeks' },
  { value: 'lastMonths', label: 'last months' },
  { value: 'calendar', label: 'calendar period' },
  { value: 'between', label: 'between two times' },
];

export function WindowEditor({
  value,
  onChange,
}: {
  value: JsonObject | undefined;
  onChange: (value: JsonObject | undefined) => void;
}) {
  const [key, span] = caseOf(value);
  return (
    <Group gap="xs" align="end">
      <Select
        label="Window"
        data={WINDOWS}
        value={key ?? ''}
        onChange={(k) =>
          onChange(
            !k
              ? undefined
              : k === 'calendar'
                ? { calendar: { month: 0 } }
                : k === 'between'
                  ? { between: { from: { daysAgo: 7 }, to: { daysAgo: 0 } } }
                  : { [k]: 30 },
          )
        }
        allowDeselect={false}
        w={170}
      />
      {key === 'calendar' && (
        <CalendarEditor
          label="Period"
          value={span}
          onChange={(calendar) => onChange({ calendar })}
        />
      )}
      {key === 'between' && (
        <TimeRangeEditor value={span} onChange={(between) => onChange({ between })} />
      )}
      {key && key !== 'calendar' && key !== 'between' && (
        <NumberField
          label="Window length"
          value={span}
          min={1}
          onChange={(n) => onChange({ [key]: n })}
        />
      )}
    </Group>
  );
}

const TIME_CONDITIONS = [
  { value: 'before', label: 'before' },
  { value: 'after', label: 'after' },
  { value: 'withinLast', label: 'within the last' },
  { value: 'withinNext', label: 'within the next' },
  { value: 'during', label: 'during' },
  { value: 'calendar', label: 'in calendar period' },
  { value: 'anniversary', label: 'anniversary within' },
  { value: 'afterTrait', label: 'after a date trait' },
];

/** Operators on a point in time, shared by trait dates and first / last seen. */
export function TimeOperatorEditor({
  operator,
  operand,
  onChange,
}: {
  operator: string;
  operand: JsonValue | undefined;
  onChange: (operand: JsonValue) => void;
}) {
  switch (operator) {
    case 'before':
    case 'after':
      return <TimeOperandEditor label="Time" value={operand} onChange={onChange} />;
    case 'withinLast':
    case 'withinNext':
      return <SpanEditor label="Span" value={operand} onChange={onChange} />;
    case 'during':
      return <TimeRangeEditor value={operand} onChange={onChange} />;
    case 'calendar':
      return <CalendarEditor label="Period" value={operand} onChange={onChange} />;
    case 'anniversary': {
      const days = (operand as JsonObject | undefined)?.withinNextDays;
      return (
        <NumberField
          label="Within next days"
          value={days ?? 7}
          min={0}
          onChange={(n) => onChange({ withinNextDays: n })}
        />
      );
    }
    case 'afterTrait':
      return <TraitAnchorEditor value={operand} onChange={onChange} />;
    default:
      return null;
  }
}

export const TIME_OPERATORS = TIME_CONDITIONS.map((t) => t.value);

/** A TimeCondition (first / last seen): which operator, and its operand. */
export function TimeConditionEditor({
  value,
  onChange,
}: {
  value: JsonObject | undefined;
  onChange: (value: JsonObject) => void;
}) {
  const [key, operand] = caseOf(value);
  const operator = key ?? 'withinLast';
  return (
    <Group gap="xs" align="end">
      <Select
        label="When"
        data={TIME_CONDITIONS}
        value={operator}
        onChange={(k) => k && onChange({ [k]: defaultTimeOperand(k) })}
        allowDeselect={false}
        w={190}
      />
      <TimeOperatorEditor
        operator={operator}
        operand={operand}
        onChange={(o) => onChange({ [operator]: o })}
      />
    </Group>
  );
}

export function defaultTimeOperand(operator: string): JsonValue {
  switch (operator) {
    case 'before':
    case 'after':
      return { daysAgo: 30 };
    case 'withinLast':
    case 'withinNext':
      return { days: 30 };
    case 'during':
      return { from: { daysAgo: 7 }, to: { daysAgo: 0 } };
    case 'calendar':
      return { month: 0 };
    case 'anniversary':
      return { withinNextDays: 7 };
    case 'afterTrait':
      return { path: '', within: { days: 14 } };
    default:
      return '';
  }
}
