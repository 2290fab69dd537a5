import { Inject, Injectable } from '@nestjs/common';
import { Audience, SegmentKind, type Rule } from '@shoal/contracts';
import { CLOCK, type Clock, type FieldViolation, type Principal, canSee } from '@shoal/platform';
import {
  applyEventToState,
  compileRule,
  emptyState,
  pruneState,
  specsOf,
  validateRule,
  type EvaluationState,
  type StateSpec,
} from '@shoal/rules';
import { isAccountKey, type ProfileState } from '../evaluation/profile-state';
import type { ProfileTable } from '../evaluation/profile-table';
import { retainOf } from '../evaluation/segment-catalogue';
import { PartitionsService } from '../partitions/partitions.service';
import { SegmentDefinitionsService } from '../segments/segment-definitions.service';
import { MembershipError } from './membership.errors';

/** What a preview found. */
export interface PreviewResult {
  readonly estimatedCount: number;
  readonly exact: boolean;
  readonly sample: string[];
  readonly profilesEvaluated: number;
  readonly partitionsEvaluated: number;
  readonly partitionCount: number;
  readonly notes: string[];
}

export const MAX_PREVIEW_SAMPLE = 100;
/** Profiles whose history is read when a rule needs state no segment keeps. */
const HISTORY_SAMPLE = 2_000;
/** Profiles evaluated between yields to the event loop. */
const SLICE = 5_000;

/**
 * The size of a rule being written, and its first members: evaluated over the working sets of
 * the partitions this instance owns. When the rule needs event state no segment keeps, it is
 * estimated from the history of a sample of profiles; with several instances, the count is
 * scaled by the share of partitions owned (docs/membership.md).
 */
@Injectable()
export class PreviewService {
  constructor(
    private readonly partitions: PartitionsService,
    private readonly definitions: SegmentDefinitionsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async preview(
    principal: Principal,
    rule: Rule | undefined,
    requestedSample: number,
    signal: AbortSignal,
  ): Promise<PreviewResult> {
    const checked = this.check(principal, rule, requestedSample);
    const sampleSize = requestedSample === 0 ? MAX_PREVIEW_SAMPLE : requestedSample;
    const { root } = compileRule({ rule: checked });
    const kept = this.definitions.current.specs;
    const missing = specsOf({ rule: checked }).filter((spec) => {
      const known = kept.get(spec.key);
      return known === undefined || retainOf(known) < retainOf(spec);
    });
    const now = this.clock.now().getTime();
    const owned = this.partitions.ownedPartitions;
    // references, not states: most states are packed, and are revived one at a time to read
    const profiles: { table: ProfileTable; id: string }[] = [];
    for (const partition of owned) {
      const table = this.partitions.local(partition)?.ws.profiles;
      if (table === undefined) continue;
      for (const id of table.ids()) {
        if (!isAccountKey(id) && !table.isGhost(id)) profiles.push({ table, id });
      }
    }
    const notes: string[] = [];
    const matches: string[] = [];
    let evaluated = 0;
    if (missing.length === 0) {
      for (let start = 0; start < profiles.length; start += SLICE) {
        if (signal.aborted)
          throw MembershipError.invalid([{ field: '', description: 'cancelled' }]);
        for (const { table, id } of profiles.slice(start, start + SLICE)) {
          const profile = table.peek(id);
          if (profile !== undefined && root.evaluate(profile.state, now)) matches.push(id);
        }
        evaluated = Math.min(profiles.length, start + SLICE);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } else {
      const stride = Math.max(1, Math.ceil(profiles.length / HISTORY_SAMPLE));
      const sampled = profiles.filter((_, index) => index % stride === 0);
      const states = await Promise.all(
        sampled.map(({ table, id }) => {
          const profile = table.peek(id);
          return profile === undefined ? undefined : this.withSpecs(profile, missing, now);
        }),
      );
      states.forEach((state, index) => {
        if (state !== undefined && root.evaluate(state, now))
          matches.push((sampled[index] as { id: string }).id);
      });
      evaluated = states.filter((state) => state !== undefined).length;
      notes.push(
        `estimated from the event history of ${evaluated} of ${profiles.length} profiles: the rule needs event aggregates no segment keeps yet`,
      );
    }
    const scale = evaluated === 0 ? 0 : profiles.length / evaluated;
    let estimate = Math.round(matches.length * scale);
    const count = this.partitions.partitionCount;
    if (owned.length < count && owned.length > 0) {
      estimate = Math.round((estimate * count) / owned.length);
      notes.push(`scaled from the ${owned.length} of ${count} partitions this instance evaluates`);
    }
    const byPartition = (id: string) => this.partitions.partitionOf(id);
    const sample = matches
      .sort((a, b) => byPartition(a) - byPartition(b) || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, sampleSize);
    return {
      estimatedCount: estimate,
      exact: missing.length === 0 && owned.length === count,
      sample,
      profilesEvaluated: evaluated,
      partitionsEvaluated: owned.length,
      partitionCount: count,
      notes,
    };
  }

  /** Validates the rule as a saved one would be; references must name segments the caller sees. */
  private check(principal: Principal, rule: Rule | undefined, sampleSize: number): Rule {
    const violations: FieldViolation[] = [];
    if (sampleSize < 0 || sampleSize > MAX_PREVIEW_SAMPLE)
      violations.push({ field: 'sampleSize', description: `must be 0 to ${MAX_PREVIEW_SAMPLE}` });
    if (rule === undefined) {
      violations.push({ field: 'rule', description: 'is required' });
      throw MembershipError.invalid(violations);
    }
    if (rule.audience === Audience.ACCOUNTS)
      violations.push({
        field: 'rule.audience',
        description: 'account audiences are not previewed by this version of membership',
      });
    const result = validateRule({
      rule,
      lookupRule: (id) => {
        const segment = this.definitions.definition(id);
        return segment?.kind === SegmentKind.DYNAMIC && canSee(segment, principal)
          ? segment.rule
          : undefined;
      },
    });
    for (const violation of result.violations)
      violations.push({
        field: violation.path ? `rule.${violation.path}` : 'rule',
        description: violation.message,
      });
    if (violations.length > 0) throw MembershipError.invalid(violations);
    return rule;
  }

  /** A profile's state with `specs` rebuilt from its history; undefined when it cannot be read. */
  private async withSpecs(
    profile: ProfileState,
    specs: readonly StateSpec[],
    now: number,
  ): Promise<EvaluationState | undefined> {
    const events = await this.partitions.historyOf(profile);
    if (events === undefined) return undefined;
    let rebuilt = emptyState();
    for (const event of events)
      rebuilt = applyEventToState({
        state: rebuilt,
        specs,
        event: { name: event.n, timestamp: event.t, properties: event.p },
      });
    rebuilt = pruneState({ state: rebuilt, specs, now });
    return {
      ...profile.state,
      aggregates: { ...profile.state.aggregates, ...rebuilt.aggregates },
      recency: { ...profile.state.recency, ...rebuilt.recency },
      sequences: { ...profile.state.sequences, ...rebuilt.sequences },
    };
  }
}
