import { DEFAULT_LIMITS, type RuleLimits } from '@shoal/rules';

/** The configurable limits of the segments service; every refusal names the limit and its value. */
export interface SegmentLimits {
  readonly segmentsPerOwner: number;
  readonly nameMaxLength: number;
  readonly descriptionMaxLength: number;
  readonly tagsMax: number;
  readonly tagMaxLength: number;
  readonly staticListMaxMembers: number;
  readonly membersPerCall: number;
  /** Largest definition, protobuf-encoded as published. */
  readonly definitionMaxBytes: number;
  /** Most subjects, and most groups, in a hidden-from or editors list. */
  readonly principalsMax: number;
  /** Longest subject or group name. */
  readonly principalMaxLength: number;
  readonly rule: RuleLimits;
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
  RULE_MAX_LIST_VALUES: number;
  RULE_MAX_OPERAND_LENGTH: number;
  SEGMENT_DEFINITION_MAX_BYTES: number;
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
    definitionMaxBytes: config.SEGMENT_DEFINITION_MAX_BYTES,
    principalsMax: 100,
    principalMaxLength: 256,
    rule: {
      ...DEFAULT_LIMITS,
      maxConditions: config.RULE_MAX_CONDITIONS,
      maxDepth: config.RULE_MAX_DEPTH,
      maxSequenceSteps: config.RULE_MAX_SEQUENCE_STEPS,
      maxHistoryDays: config.RULE_MAX_HISTORY_DAYS,
      maxListValues: config.RULE_MAX_LIST_VALUES,
      maxOperandLength: config.RULE_MAX_OPERAND_LENGTH,
    },
  };
}
