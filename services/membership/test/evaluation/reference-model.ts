import type { JsonObject } from '@bufbuild/protobuf';
import {
  RefreshMode,
  SegmentKind,
  SegmentStatus,
  TransitionCause,
  type Rule,
  type Segment,
} from '@shoal/contracts';
import {
  decideEntry,
  evaluationOrder,
  type MembershipTransition,
  type RuleEvent,
} from '@shoal/rules';
import { oracle } from '@shoal/rules/testing';

// The membership service's behaviour by brute force, for the property tests: every profile's
// full event history and facts, every live segment re-evaluated for every profile at every
// instant it is asked about, with the rule library's oracle and the full transition history for
// re-entry decisions. It shares nothing with the evaluation core but the rule library's oracle
// and decideEntry.

export interface ReferenceTransition {
  readonly profileId: string;
  readonly segmentId: string;
  readonly kind: 'entered' | 'exited';
  readonly at: number;
  readonly cause: TransitionCause;
  readonly sequence: number;
}

interface Pair {
  member: boolean;
  since: number;
  sequence: number;
  history: MembershipTransition[];
}

interface Profile {
  traits: JsonObject;
  tags: Set<string>;
  lists: Map<string, { seq: number; member: boolean }>;
  events: RuleEvent[];
  pairs: Map<string, Pair>;
}

export class ReferenceModel {
  readonly definitions = new Map<string, Segment>();
  private readonly profiles = new Map<string, Profile>();

  // ---- facts ---------------------------------------------------------------------------------

  ensure(id: string): void {
    if (!this.profiles.has(id)) {
      this.profiles.set(id, {
        traits: {},
        tags: new Set(),
        lists: new Map(),
        events: [],
        pairs: new Map(),
      });
    }
  }

  exists(id: string): boolean {
    return this.profiles.has(id);
  }

  addEvent(id: string, event: RuleEvent): void {
    this.profile(id).events.push(event);
  }

  setTrait(id: string, key: string, value: JsonObject[string] | undefined): void {
    const traits = this.profile(id).traits;
    if (value === undefined) delete traits[key];
    else traits[key] = value;
  }

  setTag(id: string, tag: string, present: boolean): void {
    const tags = this.profile(id).tags;
    if (present) tags.add(tag);
    else tags.delete(tag);
  }

  /** Applies a list change unless an equal or higher sequence was applied; says whether it applied. */
  setList(id: string, list: string, member: boolean, seq: number): boolean {
    const lists = this.profile(id).lists;
    const applied = lists.get(list);
    if (applied !== undefined && seq <= applied.seq) return false;
    lists.set(list, { seq, member });
    return true;
  }

  listSequence(id: string, list: string): number {
    return this.profiles.get(id)?.lists.get(list)?.seq ?? 0;
  }

  dropList(list: string): void {
    for (const profile of this.profiles.values()) profile.lists.delete(list);
  }

  /** Every member exits with `cause`, then the profile is forgotten (erasure, absorption). */
  remove(id: string, at: number, cause: TransitionCause): ReferenceTransition[] {
    const profile = this.profiles.get(id);
    if (profile === undefined) return [];
    const out: ReferenceTransition[] = [];
    for (const [segmentId, pair] of profile.pairs) {
      if (pair.member) out.push(this.move(id, segmentId, pair, 'exited', at, cause));
    }
    this.profiles.delete(id);
    return out;
  }

  /** The absorbed profile's events become the survivor's (its other facts do not carry over). */
  merge(survivor: string, absorbed: string, at: number): ReferenceTransition[] {
    const events = this.profiles.get(absorbed)?.events ?? [];
    const out = this.remove(absorbed, at, TransitionCause.MERGE);
    this.profile(survivor).events.push(...events);
    return out;
  }

  /** A segment is deleted: its members exit (DELETED) and its pairs are forgotten. */
  deleteSegment(segmentId: string, at: number): ReferenceTransition[] {
    this.definitions.delete(segmentId);
    const out: ReferenceTransition[] = [];
    for (const [id, profile] of this.profiles) {
      const pair = profile.pairs.get(segmentId);
      if (pair?.member)
        out.push(this.move(id, segmentId, pair, 'exited', at, TransitionCause.DELETED));
      profile.pairs.delete(segmentId);
    }
    return out;
  }

  // ---- evaluation ----------------------------------------------------------------------------

  /**
   * Every live segment (and `forced`) for every profile at `at`, in dependency order; returns
   * the transitions, attributed to `cause`.
   */
  evaluateAll(at: number, cause: TransitionCause, forced?: string): ReferenceTransition[] {
    const rules = new Map<string, Rule>();
    for (const definition of this.definitions.values()) {
      if (definition.kind === SegmentKind.DYNAMIC && definition.rule !== undefined)
        rules.set(definition.id, definition.rule);
    }
    const order = evaluationOrder(rules);
    const out: ReferenceTransition[] = [];
    for (const [id, profile] of this.profiles) {
      for (const segmentId of order) {
        const definition = this.definitions.get(segmentId) as Segment;
        if (!(isLive(definition) || (segmentId === forced && isActive(definition)))) continue;
        const qualifies = oracle({
          rule: definition.rule as Rule,
          history: {
            traits: profile.traits,
            tags: [...profile.tags],
            lists: [...profile.lists].filter(([, v]) => v.member).map(([list]) => list),
            segments: this.segmentsOf(profile),
            events: profile.events,
          },
          now: at,
        });
        let pair = profile.pairs.get(segmentId);
        if (pair === undefined) {
          pair = { member: false, since: 0, sequence: 0, history: [] };
          profile.pairs.set(segmentId, pair);
        }
        if (pair.member && !qualifies) {
          out.push(this.move(id, segmentId, pair, 'exited', at, cause));
        } else if (!pair.member && qualifies) {
          const decision = decideEntry({
            policy: definition.reentry,
            transitions: pair.history,
            now: at,
          });
          if (decision.kind === 'allowed')
            out.push(this.move(id, segmentId, pair, 'entered', at, cause));
        }
      }
    }
    return out;
  }

  /** Member and sequence of every pair that ever changed, keyed `profile|segment`. */
  memberships(): Map<string, { member: boolean; sequence: number }> {
    const out = new Map<string, { member: boolean; sequence: number }>();
    for (const [id, profile] of this.profiles) {
      for (const [segmentId, pair] of profile.pairs) {
        if (pair.sequence > 0)
          out.set(`${id}|${segmentId}`, { member: pair.member, sequence: pair.sequence });
      }
    }
    return out;
  }

  private segmentsOf(profile: Profile): Record<string, number> {
    const segments: Record<string, number> = {};
    for (const [segmentId, pair] of profile.pairs)
      if (pair.member) segments[segmentId] = pair.since;
    return segments;
  }

  private move(
    profileId: string,
    segmentId: string,
    pair: Pair,
    kind: 'entered' | 'exited',
    at: number,
    cause: TransitionCause,
  ): ReferenceTransition {
    pair.member = kind === 'entered';
    pair.sequence += 1;
    pair.since = at;
    pair.history.push({ kind, at });
    return { profileId, segmentId, kind, at, cause, sequence: pair.sequence };
  }

  private profile(id: string): Profile {
    this.ensure(id);
    return this.profiles.get(id) as Profile;
  }
}

function isActive(definition: Segment): boolean {
  return definition.status !== SegmentStatus.INACTIVE;
}

function isLive(definition: Segment): boolean {
  const mode = definition.refresh?.mode ?? RefreshMode.UNSPECIFIED;
  return (
    definition.kind === SegmentKind.DYNAMIC &&
    isActive(definition) &&
    (mode === RefreshMode.REALTIME || mode === RefreshMode.UNSPECIFIED)
  );
}
