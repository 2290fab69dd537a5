import { type MessageInitShape, create } from '@bufbuild/protobuf';
import type { Provider, Type } from '@nestjs/common';
import { type Rule, RuleSchema, SegmentDraftSchema, SegmentKind } from '@shoal/contracts';
import { DomainError, type Principal } from '@shoal/platform';
import { newTestService, refusalOf } from '@shoal/testing';
import type { DraftField } from '../src/segments/segment-definitions';
import {
  SEGMENT_LIMITS,
  type SegmentLimits,
  limitsFromConfig,
} from '../src/segments/segment-limits';
import { SEGMENT_CHANGES } from '../src/segments/segment-versions.service';
import { SEGMENT_USE_CASES } from '../src/segments/segments.module';
import { SEGMENT_REPOSITORY } from '../src/segments/segments.repository.port';
import { SegmentsService } from '../src/segments/segments.service';
import { InMemorySegmentRepository } from './in-memory-segments.repository';

/** The limits unit tests run with: the defaults, with small ones where tests reach them. */
export const TEST_LIMITS: SegmentLimits = limitsFromConfig({
  SEGMENTS_PER_OWNER_MAX: 100,
  SEGMENT_NAME_MAX_LENGTH: 200,
  SEGMENT_DESCRIPTION_MAX_LENGTH: 2000,
  SEGMENT_TAGS_MAX: 20,
  RULE_MAX_CONDITIONS: 100,
  RULE_MAX_DEPTH: 8,
  RULE_MAX_SEQUENCE_STEPS: 8,
  RULE_MAX_HISTORY_DAYS: 800,
  RULE_MAX_LIST_VALUES: 1000,
  RULE_MAX_OPERAND_LENGTH: 2048,
  SEGMENT_DEFINITION_MAX_BYTES: 2048,
  STATIC_LIST_MAX_MEMBERS: 100,
});

/** Counts the changes a service reported for publication. */
export class ChangeCounter {
  count = 0;
  changed(): void {
    this.count++;
  }
}

/**
 * A use case of the segments feature over in-memory storage, wired as SegmentsModule wires it,
 * with helpers to make segments as a caller would.
 */
export async function newSegmentsTestService<T>(
  service: Type<T>,
  { limits = TEST_LIMITS, providers = [] }: { limits?: SegmentLimits; providers?: Provider[] } = {},
) {
  const repository = new InMemorySegmentRepository();
  const changes = new ChangeCounter();
  const test = await newTestService(service, {
    fakes: [
      [SEGMENT_REPOSITORY, repository],
      [SEGMENT_CHANGES, changes],
    ],
    providers: [{ provide: SEGMENT_LIMITS, useValue: limits }, ...SEGMENT_USE_CASES, ...providers],
  });
  const segments = test.get<SegmentsService>(SegmentsService);
  /** A segment `principal` creates (dynamic with a tag rule unless said otherwise). */
  const make = (principal: Principal, draft: Draft, kind = SegmentKind.DYNAMIC, asDraft = false) =>
    segments.create({
      kind,
      draft: create(
        SegmentDraftSchema,
        kind === SegmentKind.DYNAMIC ? { rule: tagged('x'), ...draft } : draft,
      ),
      asDraft,
      principal,
    });
  /** `principal` changes the `fields` of a segment they read at `version`. */
  const update = (
    principal: Principal,
    id: string,
    version: bigint,
    draft: Draft,
    fields: readonly DraftField[],
  ) =>
    segments.update({
      id,
      expectedVersion: version,
      draft: create(SegmentDraftSchema, draft),
      fields,
      principal,
    });
  return { ...test, repository, changes, segments, make, update };
}

export type Draft = MessageInitShape<typeof SegmentDraftSchema>;

export const user = (subject: string, groups: string[] = []): Principal => ({
  subject,
  groups,
  kind: 'user',
});
export const ann = user('ann', ['marketing']);
export const bob = user('bob', ['marketing']);
export const eve = user('eve', ['sales']);
export const exporter: Principal = { subject: 'service:exporter', groups: [], kind: 'service' };

export const tagged = (tag: string): Rule =>
  create(RuleSchema, { condition: { kind: { case: 'hasTag', value: tag } } });
export const using = (kind: 'inSegment' | 'inList', id: string): Rule =>
  create(RuleSchema, { condition: { kind: { case: kind, value: id } } });

/** The refusal a call ends with. */
export function refusal(call: Promise<unknown>): Promise<DomainError> {
  return refusalOf(call, DomainError);
}
