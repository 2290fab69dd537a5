import type { RuleLimits } from '@shoal/rules';

/** The configurable limits of the segments service; every refusal names the limit and its value. */
export interface SegmentLimits {
  readonly segmentsPerOwner: number;
  readonly nameMaxLength: number;
  readonly descriptionMaxLength: number;
  readonly tagsMax: number;
  readonly tagMaxLength: number;
  readonly staticListMaxMembers: number;
  readonly membersPerCall: number;
  readonly rule: Partial<RuleLimits>;
}

export const SEGMENT_LIMITS = Symbol('SegmentLimits');

export function limitsFromConfig(config: {
  SEGMENTS_PER_OWNER_MAX: number;
  SEGMENT_NAME_MAX_LENGTH: number;
  SEGMENT_DESCRIPTION_MAX_LENGTH: number;
  SEGMENT_TAGS_MAX: number;
  RULE_MAX_CONDITIONS: number;
  RULE_MAX_DEPTH: number;
  RULE_MAX_SEQUENCE_STEPS: number;
  RULE_MAX_HISTORY_DAYS: number;
  STATIC_LIST_MAX_MEMBERS: number;
}): SegmentLimits {
  return {
    segmentsPerOwner: config.SEGMENTS_PER_OWNER_MAX,
    nameMaxLength: config.SEGMENT_NAME_MAX_LENGTH,
    descriptionMaxLength: config.SEGMENT_DESCRIPTION_MAX_LENGTH,
    tagsMax: config.SEGMENT_TAGS_MAX,
    tagMaxLength: 64,
    staticListMaxMembers: config.STATIC_LIST_MAX_MEMBERS,
    membersPerCall: 100_000,
    rule: {
      maxConditions: config.RULE_MAX_CONDITIONS,
      maxDepth: config.RULE_MAX_DEPTH,
      maxSequenceSteps: config.RULE_MAX_SEQUENCE_STEPS,
      maxHistoryDays: config.RULE_MAX_HISTORY_DAYS,
    },
  };
}
