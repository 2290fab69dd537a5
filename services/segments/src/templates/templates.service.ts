import { type JsonValue, clone, create, fromJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  type Rule,
  RuleSchema,
  type Segment,
  type SegmentDraft,
  SegmentDraftSchema,
  SegmentKind,
  type SegmentTemplate,
  SegmentTemplateSchema,
  TemplateParameterType,
} from '@shoal/contracts';
import { type Principal, Violations } from '@shoal/platform';
import { SEGMENT_LIMITS, type SegmentLimits } from '../segments/segment-limits';
import { SegmentsService } from '../segments/segments.service';
import { TemplateError } from './templates.errors';
import {
  TEMPLATES,
  type TemplateParameterSpec,
  type TemplateSpec,
  resolveBound,
} from './templates';

interface ParameterBounds {
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
}

/**
 * Segments from named, parameterised rules: each parameter is checked against its type and
 * bounds (with its name as the path), then the rule like any other.
 */
@Injectable()
export class TemplatesService {
  constructor(
    private readonly segments: SegmentsService,
    @Inject(SEGMENT_LIMITS) private readonly limits: SegmentLimits,
  ) {}

  list(): SegmentTemplate[] {
    return TEMPLATES.map((t) =>
      create(SegmentTemplateSchema, {
        id: t.id,
        name: t.name,
        description: t.description,
        parameters: t.parameters.map((p) => ({
          name: p.name,
          description: p.description,
          type: p.type,
          ...(p.defaultValue !== undefined
            ? { defaultValue: fromJson(ValueSchema, p.defaultValue) }
            : {}),
          ...this.bounds(p),
        })),
        example: this.rule(t, {}),
      }),
    );
  }

  async create({
    templateId,
    parameters,
    draft,
    asDraft,
    principal,
  }: {
    templateId: string;
    parameters: Readonly<Record<string, JsonValue>>;
    draft: SegmentDraft | undefined;
    asDraft: boolean;
    principal: Principal;
  }): Promise<Segment> {
    const template = TEMPLATES.find((t) => t.id === templateId);
    if (!template) throw TemplateError.notFound(templateId);
    const segment = draft ? clone(SegmentDraftSchema, draft) : create(SegmentDraftSchema);
    segment.rule = this.rule(template, parameters, true);
    return this.segments.create({ kind: SegmentKind.DYNAMIC, draft: segment, asDraft, principal });
  }

  /**
   * The template's rule for the given parameters (defaults and example values fill the rest);
   * `strict` when creating: required parameters must be given and all within their bounds.
   */
  private rule(
    template: TemplateSpec,
    given: Readonly<Record<string, JsonValue>>,
    strict = false,
  ): Rule {
    const v = new Violations();
    for (const name of Object.keys(given)) {
      if (!template.parameters.some((p) => p.name === name))
        v.add(`parameters.${name}`, `is not a parameter of ${template.id}`);
    }
    const values: Record<string, JsonValue> = {};
    for (const p of template.parameters) {
      const value = given[p.name] ?? p.defaultValue ?? (strict ? undefined : p.exampleValue);
      if (value === undefined) {
        v.add(`parameters.${p.name}`, 'is required');
        continue;
      }
      const problem =
        typeProblem(p.type, value) ?? (strict ? this.boundsProblem(p, value) : undefined);
      if (problem) v.add(`parameters.${p.name}`, problem);
      values[p.name] = value;
    }
    v.throwIfAny();
    try {
      return fromJson(RuleSchema, template.build(values));
    } catch (error) {
      // the bounds above keep every value in its field's range; this is the last line of defence
      throw TemplateError.unbuildable((error as Error).message);
    }
  }

  /** A parameter's bounds as ListTemplates tells them, resolved against the configured limits. */
  private bounds(p: TemplateParameterSpec): ParameterBounds {
    if (p.type === TemplateParameterType.STRING)
      return { maxLength: this.limits.rule.maxOperandLength };
    return {
      ...(p.minimum !== undefined ? { minimum: resolveBound(p.minimum, this.limits.rule) } : {}),
      ...(p.maximum !== undefined ? { maximum: resolveBound(p.maximum, this.limits.rule) } : {}),
    };
  }

  private boundsProblem(p: TemplateParameterSpec, value: JsonValue): string | undefined {
    const { minimum, maximum, maxLength } = this.bounds(p);
    if (typeof value === 'string' && maxLength !== undefined && value.length > maxLength)
      return `is ${value.length} characters; at most ${maxLength}`;
    if (typeof value !== 'number') return undefined;
    if (minimum !== undefined && value < minimum) return `must be at least ${minimum}`;
    if (maximum !== undefined && value > maximum) return `must be at most ${maximum}`;
    return undefined;
  }
}

function typeProblem(type: TemplateParameterType, value: JsonValue): string | undefined {
  switch (type) {
    case TemplateParameterType.INTEGER:
      return Number.isInteger(value) ? undefined : 'must be a whole number';
    case TemplateParameterType.NUMBER:
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case TemplateParameterType.STRING:
      return typeof value === 'string' && value.trim() !== ''
        ? undefined
        : 'must be a non-empty string';
    case TemplateParameterType.UNSPECIFIED:
      return 'has no type';
  }
}
