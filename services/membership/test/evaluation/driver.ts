import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { isDeepStrictEqual } from 'node:util';
import {
  SegmentStatus,
  TransitionCause,
  type Condition,
  type ProfileChange,
  type Segment,
} from '@shoal/contracts';
import {
  isAccountKey,
  subjectIdOf,
  type HistoryChunk,
  type HistoryEvent,
  type ProfileState,
} from '../../src/evaluation/profile-state';
import { SegmentCatalogue } from '../../src/evaluation/segment-catalogue';
import type { Transition } from '../../src/evaluation/transition';
import type { ContactMessage } from '../../src/evaluation/contacts';
import { DEFAULT_WORKING_SET_OPTIONS, PartitionWorkingSet } from '../../src/evaluation/working-set';
import { ReferenceModel, type ReferenceTransition } from './reference-model';
import {
  ACCOUNTS,
  EVENT_NAMES,
  accountTraitsChange,
  LISTS,
  PROFILES,
  TAG_NAMES,
  eventChange,
  listChange,
  listDefinition,
  profileChange,
  segmentDefinition,
  segmentId,
  type Operation,
  type Scenario,
} from './scenario';

type Comparable = Pick<
  ReferenceTransition,
  'profileId' | 'segmentId' | 'kind' | 'at' | 'cause' | 'sequence'
>;

// small history chunks, so that sealing, backfills from chunks and hand-overs are exercised;
// one live subject, so that every other one is packed and revived between operations
const WORKING_SET_OPTIONS = {
  ...DEFAULT_WORKING_SET_OPTIONS,
  historyChunkSize: 3,
  hotProfiles: 1,
};

/** What a run saw, for the guards against vacuous properties. */
export interface RunStats {
  transitions: number;
  timeTransitions: number;
  /** Transitions of accounts (account segments). */
  accountTransitions: number;
  /** Transitions of accounts decided when their contacts changed. */
  contactTransitions: number;
  checks: number;
  /** Profiles refreshes decided while packed, leaving them packed. */
  leftPacked: number;
  /** Refreshes run while some profiles were packed, by kind of condition in the segment's rule. */
  refreshesOverPacked: Map<string, number>;
}

/** Throws unless two cores decided the same transitions and hold the same states of `ids`. */
function sameRefresh(
  label: string,
  a: { core: PartitionWorkingSet; transitions: readonly Transition[] },
  b: { core: PartitionWorkingSet; transitions: readonly Transition[] },
  ids: readonly string[],
): void {
  if (!isDeepStrictEqual(a.transitions, b.transitions))
    throw new Error(
      `${label}: transitions differ from a refresh with every subject live\n  packed: ${a.transitions.map(describe).join(', ') || '(none)'}\n  live:   ${b.transitions.map(describe).join(', ') || '(none)'}`,
    );
  for (const id of ids) {
    // as stored: a field set to undefined is no field
    const state: unknown = JSON.parse(JSON.stringify(a.core.profiles.peek(id)));
    const expected: unknown = JSON.parse(JSON.stringify(b.core.profiles.peek(id)));
    if (!isDeepStrictEqual(state, expected))
      throw new Error(
        `${label}: ${id} differs from a refresh with every subject live\n  packed: ${JSON.stringify(state)}\n  live:   ${JSON.stringify(expected)}`,
      );
  }
}

/** The kinds of the conditions a rule holds: `trait`, `event.count`, `hasTag`, ... */
export function conditionKindsOf(condition: Condition | undefined): string[] {
  const kind = condition?.kind;
  if (kind === undefined || kind.case === undefined) return [];
  switch (kind.case) {
    case 'all':
    case 'any':
    case 'none':
      return kind.value.conditions.flatMap(conditionKindsOf);
    case 'event':
      return [`event.${kind.value.measure.case ?? ''}`];
    default:
      return [kind.case];
  }
}

function describe(t: Comparable): string {
  return `${t.profileId} ${t.kind} ${t.segmentId} #${t.sequence} at ${new Date(t.at).toISOString()} (${TransitionCause[t.cause]})`;
}

/**
 * Drives one partition's evaluation core and the reference model through a scenario, comparing
 * at every instant either of them looks at: the steps' instants, sample instants in between,
 * and each instant at which the core made a time-driven transition and the millisecond before
 * it (so a timer that fires late or early is caught). Throws on the first difference.
 */
export class Driver {
  readonly stats: RunStats = {
    transitions: 0,
    timeTransitions: 0,
    accountTransitions: 0,
    contactTransitions: 0,
    checks: 0,
    leftPacked: 0,
    refreshesOverPacked: new Map(),
  };
  private readonly reference = new ReferenceModel();
  private readonly definitions = new Map<string, Segment>();
  private readonly chunks = new Map<string, HistoryChunk>();
  private readonly versions = new Map<string, number>();
  private readonly survivors = new Map<string, string>();
  private readonly lastChanges = new Map<string, ProfileChange>();
  private readonly workingSet: PartitionWorkingSet;
  private now: number;
  private offset = 0;
  private listOffset = 0;
  private contactOffset = 0;
  private changeCount = 0;

  constructor(private readonly scenario: Scenario) {
    this.now = scenario.start;
    for (const list of LISTS) this.definitions.set(list, listDefinition(list));
    scenario.segments.forEach((spec, slot) => {
      if (spec !== null) this.define(slot, segmentDefinition(slot, spec, this.bump(slot)));
    });
    this.workingSet = new PartitionWorkingSet({
      catalogue: SegmentCatalogue.empty(),
      options: WORKING_SET_OPTIONS,
    });
    this.compare([...this.applyCatalogue(), ...this.route(this.now)], [], 'initial catalogue');
  }

  run(): void {
    for (const [index, step] of this.scenario.steps.entries()) {
      const target = this.now + step.advance;
      const samples = step.samples.map((f) => Math.floor(this.now + f * (target - this.now)));
      for (const instant of [...samples.sort((a, b) => a - b), target]) this.passTimeTo(instant);
      const label = `step ${index} (${step.operation.kind})`;
      const { core, reference } = this.apply(step.operation);
      // the partition's contact records come back to it (its accounts) after the operation
      this.compare([...core, ...this.route(this.now)], reference, label);
      this.persist();
      this.compareMemberships(label);
      this.compareRefreshesWhilePacked(label);
    }
  }

  // ---- time ----------------------------------------------------------------------------------

  private passTimeTo(instant: number): void {
    if (instant < this.now) return;
    // timers fire one instant at a time, each instant's contact records applied before the next
    const core: Transition[] = [];
    for (;;) {
      const next = this.workingSet.nextTimerAt;
      if (next === undefined || next > instant) break;
      core.push(...this.workingSet.fireTimers(next), ...this.route(next));
    }
    const visits = new Set<number>([instant]);
    for (const transition of core) {
      if (transition.at <= this.now && transition.at !== instant)
        throw new Error(
          `late timer: ${describe(transition)} fired after ${new Date(this.now).toISOString()} was checked`,
        );
      visits.add(transition.at);
      if (transition.at - 1 > this.now) visits.add(transition.at - 1);
    }
    for (const visit of [...visits].sort((a, b) => a - b)) {
      if (visit < this.now) continue;
      const reference = this.reference.evaluateAll(visit, TransitionCause.TIME);
      this.compare(
        core.filter((t) => t.at === visit),
        reference,
        `time ${new Date(visit).toISOString()}`,
      );
      this.now = visit;
    }
    this.stats.timeTransitions += core.length;
  }

  // ---- operations ----------------------------------------------------------------------------

  private apply(operation: Operation): { core: Transition[]; reference: ReferenceTransition[] } {
    const now = this.now;
    switch (operation.kind) {
      case 'event': {
        const id = this.profile(operation.profile);
        const name = EVENT_NAMES[operation.name] as string;
        const properties: JsonObject = name === 'Order' ? { total: operation.total } : {};
        const occurredAt = now - operation.lateness;
        const core = this.change(
          eventChange(this.nextChangeId(), id, name, occurredAt, properties),
        );
        this.reference.addEvent(id, { name, timestamp: occurredAt, properties });
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.EVENT) };
      }
      case 'trait': {
        const id = this.profile(operation.profile);
        const value =
          operation.value === undefined ? undefined : fromJson(ValueSchema, operation.value);
        const core = this.change(
          profileChange(this.nextChangeId(), id, {
            case: 'traitsChanged',
            value: { changes: [{ key: operation.key, value }] } as never,
          }),
        );
        this.reference.setTrait(id, operation.key, operation.value as JsonValue | undefined);
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.EVENT) };
      }
      case 'accountTrait': {
        const id = ACCOUNTS[operation.account] as string;
        this.offset += 1;
        const core = this.workingSet.applyProfileChange({
          change: accountTraitsChange(this.nextChangeId(), id, operation.key, operation.value),
          offset: this.offset,
          now,
        });
        this.reference.setAccountTrait(id, operation.key, operation.value as JsonValue | undefined);
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.EVENT) };
      }
      case 'join':
      case 'leave': {
        const id = this.profile(operation.profile);
        const accountId = ACCOUNTS[operation.account] as string;
        const change = profileChange(this.nextChangeId(), id, {
          case: operation.kind === 'join' ? 'accountJoined' : 'accountLeft',
          value: {} as never,
        });
        change.accountId = accountId;
        const core = this.change(change);
        if (operation.kind === 'join') this.reference.join(id, accountId);
        else this.reference.leave(id, accountId);
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.EVENT) };
      }
      case 'tag': {
        const id = this.profile(operation.profile);
        const tag = TAG_NAMES[operation.tag] as string;
        const core = this.change(
          profileChange(this.nextChangeId(), id, {
            case: 'tagsChanged',
            value: (operation.add
              ? { added: [tag], removed: [] }
              : { added: [], removed: [tag] }) as never,
          }),
        );
        this.reference.setTag(id, tag, operation.add);
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.EVENT) };
      }
      case 'list': {
        const id = this.profile(operation.profile);
        const list = LISTS[operation.list] as string;
        // the segments service publishes no member changes for a deleted list
        if (!this.definitions.has(list)) return { core: [], reference: [] };
        const applied = this.reference.listSequence(id, list);
        const sequence = operation.stale ? Math.max(1, applied) : applied + 1;
        this.listOffset += 1;
        const core = this.workingSet.applyListChange({
          change: listChange(id, list, operation.member, sequence),
          offset: this.listOffset,
          now,
        });
        this.reference.ensure(id);
        this.reference.setList(id, list, operation.member, sequence);
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.LIST) };
      }
      case 'duplicate': {
        const id = this.profile(operation.profile);
        const last = this.lastChanges.get(id);
        if (last === undefined) return { core: [], reference: [] };
        this.offset += 1;
        const core = this.workingSet.applyProfileChange({ change: last, offset: this.offset, now });
        return { core, reference: this.reference.evaluateAll(now, TransitionCause.EVENT) };
      }
      case 'merge': {
        const survivor = this.profile(operation.survivor);
        const absorbed = this.profile(operation.absorbed);
        if (
          survivor === absorbed ||
          !this.reference.exists(survivor) ||
          !this.reference.exists(absorbed)
        )
          return { core: [], reference: [] };
        const merged = {
          case: 'profilesMerged' as const,
          value: { survivorProfileId: survivor, absorbedProfileIds: [absorbed] } as never,
        };
        const core = [
          ...this.change(profileChange(this.nextChangeId(), absorbed, merged)),
          ...this.change(profileChange(this.nextChangeId(), survivor, merged)),
          ...this.workingSet.absorb({
            survivorId: survivor,
            absorbedId: absorbed,
            events: this.historyOf(absorbed),
            now,
          }),
        ];
        this.survivors.set(absorbed, survivor);
        const reference = [
          ...this.reference.merge(survivor, absorbed, now),
          ...this.reference.evaluateAll(now, TransitionCause.MERGE),
        ];
        return { core, reference };
      }
      case 'erase': {
        const id = this.profile(operation.profile);
        const core = this.change(
          profileChange(this.nextChangeId(), id, { case: 'profileErased', value: {} as never }),
        );
        this.lastChanges.delete(id);
        return {
          core,
          reference: [
            ...this.reference.remove(id, now, TransitionCause.ERASE),
            ...this.reference.evaluateAll(now, TransitionCause.ERASE),
          ],
        };
      }
      case 'define': {
        this.define(
          operation.slot,
          segmentDefinition(operation.slot, operation.spec, this.bump(operation.slot)),
        );
        return {
          core: this.applyCatalogue(),
          reference: this.reference.evaluateAll(now, TransitionCause.RULE_CHANGE),
        };
      }
      case 'delete': {
        const id = segmentId(operation.slot);
        if (!this.definitions.delete(id)) return { core: [], reference: [] };
        return {
          core: this.applyCatalogue(),
          reference: [
            ...this.reference.deleteSegment(id, now),
            ...this.reference.evaluateAll(now, TransitionCause.RULE_CHANGE),
          ],
        };
      }
      case 'refresh': {
        const id = segmentId(operation.slot);
        const definition = this.definitions.get(id);
        if (definition === undefined || definition.status === SegmentStatus.INACTIVE)
          return { core: [], reference: [] };
        return {
          core: this.refreshAsEveryProfileLive(definition, now),
          reference: this.reference.evaluateAll(now, TransitionCause.REFRESH, id),
        };
      }
      case 'deleteList': {
        const list = LISTS[operation.list] as string;
        if (!this.definitions.delete(list)) return { core: [], reference: [] };
        this.reference.dropList(list);
        return {
          core: this.applyCatalogue(),
          reference: this.reference.evaluateAll(now, TransitionCause.RULE_CHANGE),
        };
      }
    }
  }

  /**
   * Refreshes the segment in the core, where every profile but one is packed, and in a copy of
   * the core holding every profile live: the profiles a refresh decides while packed must end
   * exactly as the full evaluation leaves them (their states, timers and transitions included).
   * Accounts are always revived; their evaluation also reads the partition's contact progress,
   * which the copy does not have, so only profiles are compared.
   */
  private refreshAsEveryProfileLive(definition: Segment, now: number): Transition[] {
    const { copy: everyProfileLive, ids } = this.copyOfCore(Number.POSITIVE_INFINITY);
    const full = everyProfileLive.refresh({ segmentId: definition.id, now });
    const outcome = this.workingSet.refresh({ segmentId: definition.id, now });
    const profiles = ids.filter((id) => !isAccountKey(id));
    const ofProfiles = (transitions: readonly Transition[]) =>
      transitions.filter((t) => !(ACCOUNTS as readonly string[]).includes(t.profileId));
    sameRefresh(
      `refresh of ${definition.id}`,
      { core: this.workingSet, transitions: ofProfiles(outcome.transitions) },
      { core: everyProfileLive, transitions: ofProfiles(full.transitions) },
      profiles,
    );
    return outcome.transitions;
  }

  /**
   * Refreshes every segment, at the current instant, in two copies of the core: one with a
   * single live subject (so a refresh decides the others while packed) and one with every
   * subject live. They must decide the same transitions and leave every subject the same.
   */
  private compareRefreshesWhilePacked(label: string): void {
    for (const segment of this.workingSet.currentCatalogue.segments.values()) {
      const { copy: packed, ids } = this.copyOfCore(1);
      const { copy: live } = this.copyOfCore(Number.POSITIVE_INFINITY);
      const withPacked = ids.filter((id) => packed.profiles.packedSummary(id) !== undefined);
      const outcome = packed.refresh({ segmentId: segment.id, now: this.now });
      const full = live.refresh({ segmentId: segment.id, now: this.now });
      sameRefresh(
        `${label}, refresh of ${segment.id}`,
        { core: packed, transitions: outcome.transitions },
        { core: live, transitions: full.transitions },
        ids,
      );
      if (withPacked.length === 0) continue;
      this.stats.leftPacked += outcome.leftPacked;
      for (const kind of conditionKindsOf(segment.rule.condition))
        this.stats.refreshesOverPacked.set(
          kind,
          (this.stats.refreshesOverPacked.get(kind) ?? 0) + 1,
        );
    }
  }

  /** A copy of the core's subjects and catalogue (not its contact progress or ledger). */
  private copyOfCore(hotProfiles: number): { copy: PartitionWorkingSet; ids: string[] } {
    const ids = [...this.workingSet.profiles.ids()];
    const copy = new PartitionWorkingSet({
      catalogue: this.workingSet.currentCatalogue,
      options: { ...WORKING_SET_OPTIONS, hotProfiles },
    });
    copy.load(
      // a live state is the core's own object: the copy gets its own
      ids.map((id) => structuredClone(this.workingSet.profiles.peek(id) as ProfileState)),
      this.workingSet.appliedCatalogue,
    );
    return { copy, ids };
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** The profile an operation addresses: a merged-away id's changes land on its survivor. */
  private profile(index: number): string {
    let id = PROFILES[index] as string;
    while (this.survivors.has(id)) id = this.survivors.get(id) as string;
    return id;
  }

  /** Applies the contact output of the core to the core (one partition: its own accounts). */
  private route(now: number): Transition[] {
    const messages = this.workingSet.takeContactOutput().map((output) => {
      this.contactOffset += 1;
      const message: ContactMessage =
        output.kind === 'settled' ? { ...output, partition: 0, partitionCount: 1 } : output;
      return { offset: this.contactOffset, message };
    });
    if (messages.length === 0) return [];
    const transitions = this.workingSet.applyContactMessages({ messages, now });
    this.stats.contactTransitions += transitions.length;
    return transitions;
  }

  private nextChangeId(): string {
    this.changeCount += 1;
    return `c${this.changeCount}`;
  }

  private change(change: ProfileChange): Transition[] {
    this.offset += 1;
    if (change.change.case !== 'profileErased') {
      this.lastChanges.set(change.profileId, change);
      this.reference.ensure(change.profileId);
    }
    return this.workingSet.applyProfileChange({ change, offset: this.offset, now: this.now });
  }

  private bump(slot: number): number {
    const version = (this.versions.get(segmentId(slot)) ?? 0) + 1;
    this.versions.set(segmentId(slot), version);
    return version;
  }

  private define(slot: number, definition: Segment): void {
    this.definitions.set(segmentId(slot), definition);
    this.reference.definitions.set(segmentId(slot), definition);
  }

  private applyCatalogue(): Transition[] {
    for (const id of [...this.reference.definitions.keys()]) {
      if (!this.definitions.has(id)) this.reference.definitions.delete(id);
    }
    const catalogue = SegmentCatalogue.build({ definitions: this.definitions.values() });
    const needed = this.workingSet.specsNeedingBackfill(catalogue);
    if (needed.length === 0) return this.workingSet.setCatalogue({ catalogue, now: this.now });
    const backfill = this.workingSet.startBackfill(needed);
    for (const chunk of this.chunks.values()) backfill.addChunk(chunk);
    return this.workingSet.setCatalogue({ catalogue, now: this.now, backfill });
  }

  /** Writes what a checkpoint would: sealed chunks are kept, dropped ones deleted. */
  private persist(): void {
    const checkpoint = this.workingSet.takeCheckpoint();
    for (const chunk of checkpoint.chunks) this.chunks.set(chunk.id, chunk);
    for (const id of checkpoint.droppedChunks) this.chunks.delete(id);
  }

  private historyOf(profileId: string): HistoryEvent[] {
    const profile = this.workingSet.profiles.get(profileId);
    if (profile === undefined) return [];
    const sealed = profile.chunks.flatMap((ref) => {
      const chunk = [...this.chunks.values()].find(
        (c) => c.profileId === profileId && c.incarnation === profile.incarnation && c.n === ref.n,
      );
      if (chunk === undefined) throw new Error(`chunk ${ref.n} of ${profileId} is not stored`);
      return chunk.events;
    });
    return [...sealed, ...profile.tail];
  }

  private compare(
    core: readonly Comparable[],
    reference: readonly Comparable[],
    label: string,
  ): void {
    const a = core.map(describe).sort();
    const b = reference.map(describe).sort();
    this.stats.checks += 1;
    this.stats.transitions += core.length;
    this.stats.accountTransitions += core.filter((t) =>
      (ACCOUNTS as readonly string[]).includes(t.profileId),
    ).length;
    if (a.length !== b.length || a.some((text, i) => text !== b[i])) {
      throw new Error(
        `${label}: transitions differ\n  core:      ${a.join('\n             ') || '(none)'}\n  reference: ${b.join('\n             ') || '(none)'}`,
      );
    }
  }

  private compareMemberships(label: string): void {
    const expected = this.reference.memberships();
    const actual = new Map<string, { member: boolean; sequence: number }>();
    for (const profile of this.workingSet.profiles.values()) {
      if (profile.mergedInto !== undefined) continue;
      for (const [segment, pair] of Object.entries(profile.pairs)) {
        if (pair.seq > 0 && this.definitions.has(segment))
          actual.set(`${subjectIdOf(profile)}|${segment}`, {
            member: pair.member,
            sequence: pair.seq,
          });
      }
    }
    for (const key of new Set([...expected.keys(), ...actual.keys()])) {
      const a = actual.get(key);
      const b = expected.get(key);
      if (a?.member !== b?.member || a?.sequence !== b?.sequence)
        throw new Error(
          `${label}: ${key} is ${JSON.stringify(a)} in the core, ${JSON.stringify(b)} in the reference`,
        );
      const [profileId, segment] = key.split('|') as [string, string];
      const index = this.workingSet.membersOf(segment);
      if ((index?.has(profileId) ?? false) !== (b?.member ?? false))
        throw new Error(`${label}: the member index of ${segment} disagrees about ${profileId}`);
    }
  }
}
