import { type JsonObject, type JsonValue, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  type SegmentTemplate,
  type SegmentUsage,
  type TemplateParameter,
  TemplateParameterType,
  UsageKind,
} from '@shoal/contracts';

/**
 * What uses a segment, one line each, in the words of a warning. Segments the caller cannot
 * see arrive without id or name: they are counted, never named.
 */
export function usageLines(usages: readonly SegmentUsage[]): string[] {
  const lines: string[] = [];
  let unseen = 0;
  for (const usage of usages) {
    if (usage.kind === UsageKind.DESTINATION)
      lines.push(
        `destination “${usage.name || usage.id}”${usage.autoSync ? ' (auto-syncing: it locks the segment)' : ''}`,
      );
    else if (usage.id === '') unseen += 1;
    else lines.push(`segment “${usage.name || usage.id}”`);
  }
  if (unseen > 0) lines.push(`${unseen} segment${unseen === 1 ? '' : 's'} you cannot see`);
  return lines;
}

/** The values a template is created with, or why each wrong one is refused. */
export interface TemplateInput {
  readonly values: JsonObject;
  readonly errors: Readonly<Record<string, string>>;
}

/**
 * Turns what a user typed into a template's parameter values, checked as the segments service
 * checks them (type, whole numbers, bounds, length), so mistakes show beside their field before
 * anything is sent. An empty field takes the parameter's default; without one it is required.
 */
export function templateInput(
  template: SegmentTemplate,
  typed: Readonly<Record<string, string>>,
): TemplateInput {
  const values: Record<string, JsonValue> = {};
  const errors: Record<string, string> = {};
  for (const parameter of template.parameters) {
    const text = (typed[parameter.name] ?? '').trim();
    if (text === '') {
      if (parameter.defaultValue === undefined) errors[parameter.name] = 'required';
      continue;
    }
    const parsed = parameterValue(parameter, text);
    if (typeof parsed === 'object') errors[parameter.name] = parsed.error;
    else values[parameter.name] = parsed;
  }
  return { values, errors };
}

function parameterValue(
  parameter: TemplateParameter,
  text: string,
): string | number | { error: string } {
  switch (parameter.type) {
    case TemplateParameterType.STRING:
    case TemplateParameterType.UNSPECIFIED:
      return parameter.maxLength > 0 && text.length > parameter.maxLength
        ? { error: `at most ${parameter.maxLength} characters` }
        : text;
    case TemplateParameterType.NUMBER:
    case TemplateParameterType.INTEGER: {
      const number = Number(text);
      if (!Number.isFinite(number)) return { error: 'a number' };
      if (parameter.type === TemplateParameterType.INTEGER && !Number.isInteger(number))
        return { error: 'a whole number' };
      if (parameter.minimum !== undefined && number < parameter.minimum)
        return { error: `at least ${parameter.minimum}` };
      if (parameter.maximum !== undefined && number > parameter.maximum)
        return { error: `at most ${parameter.maximum}` };
      return number;
    }
  }
}

/** A parameter's default as the text of its field's placeholder. */
export function defaultText(parameter: TemplateParameter): string {
  if (parameter.defaultValue === undefined) return '';
  const json = toJson(ValueSchema, parameter.defaultValue);
  return typeof json === 'string' ? json : JSON.stringify(json);
}
