import { equals } from '@bufbuild/protobuf';
import {
  Audience,
  ReentryMode,
  RuleSchema,
  RefreshMode,
  SegmentKind,
  SegmentStatus,
  type ReentryPolicy,
  type Rule,
  type Segment,
} from '@shoal/contracts';
import {
  compileRule,
  dependenciesOf,
  emptyState,
  evaluationOrder,
  mergeSpecs,
  nextChange,
  validateRule,
  type CompiledRule,
  type EvaluationState,
  type RuleDependencies,
  type RuleLimits,
  type StateSpec,
} from '@shoal/rules';
import type { ContactNeeds } from './contacts';

/** A dynamic segment the membership service evaluates, compiled once per definition version. */
export interface CatalogueSegment {
  readonly id: string;
  readonly version: number;
  readonly definition: Segment;
  readonly rule: Rule;
  readonly compiled: CompiledRule;
  readonly dependencies: RuleDependencies;
  /** Whom it selects: profiles, or accounts (`AUDIENCE_ACCOUNTS`). */
  readonly audience: SubjectKind;
  /** Evaluated on every change and timer (active and REALTIME); others change only on refresh. */
  readonly realtime: boolean;
  readonly active: boolean;
  /** Its value can change with time alone, so its pairs need timers. */
  readonly timeRelative: boolean;
  readonly reentry: ReentryPolicy | undefined;
  /** Has a condition over all time (no window, first/last occurrence, unwindowed sequence). */
  readonly allTime: boolean;
  /** Position in dependency order: a segment comes after every segment it references. */
  readonly rank: number;
  /** The trait path whose sum over members is kept (`Segment.value_trait`); '' for none. */
  readonly valueTrait: string;
  /**
   * A subject with nothing this rule reads (no such trait, tag, list, membership, event state
   * or contact) is not in it, at any instant from NOTHING_READ_SINCE on: evaluating it for such
   * a subject decides nothing and sets no timer, so changes and timers skip it.
   */
  readonly quietWithoutData: boolean;
}

/**
 * The instant from which `quietWithoutData` was established (the epoch): evaluations at earlier
 * instants do not skip anything.
 */
export const NOTHING_READ_SINCE = 0;

export type SubjectKind = 'profile' | 'account';

/** A definition membership cannot evaluate, and why (reported as FAILED). */
export interface FailedSegment {
  readonly definition: Segment;
  readonly reason: string;
}

/**
 * The segments of one moment, ready for evaluation: compiled rules in dependency order, the
 * merged state specs every profile must maintain, and the dependency index that maps a change
 * to the segments it can affect. Immutable: a definition change builds a new catalogue.
 */
export class SegmentCatalogue {
  readonly segments: ReadonlyMap<string, CatalogueSegment>;
  readonly failed: ReadonlyMap<string, FailedSegment>;
  /** Every definition by id (dynamic segments, failed ones and static lists). */
  readonly definitions: ReadonlyMap<string, Segment>;
  /** Ids of the static lists that exist. */
  readonly lists: ReadonlySet<string>;
  /** The merged specs of every evaluable segment, by key. */
  readonly specs: ReadonlyMap<string, StateSpec>;
  /** Segment ids in dependency order. */
  readonly order: readonly string[];
  /**
   * Live segments whose pairs need timers: time-relative rules, and cool-down re-entry (a wait
   * ends with time), in dependency order.
   */
  readonly timed: readonly string[];
  /** What the `contacts.where` conditions read of a contact; undefined when no segment has one. */
  readonly contactNeeds: ContactNeeds | undefined;
  /**
   * Identifies what contact records hold under this catalogue: the contact needs, and the
   * versions of the segments they read. When it changes, every profile's partition publishes
   * its contacts again, then a `settled` message (see `contactBound`).
   */
  readonly contactSignature: string;
  /**
   * Account segments with `contacts` conditions, or referencing one: while the partitions have
   * not all published their contacts under a new signature, they wait (they would read
   * contacts not updated yet).
   */
  readonly contactBound: ReadonlySet<string>;
  /** Account segments with `contacts` conditions, in dependency order. */
  readonly readingContacts: readonly string[];
  /**
   * Segments a subject with nothing their rules read may be in (now or later, e.g. "never did"),
   * in dependency order: a new subject is evaluated against them besides what its change touched.
   */
  readonly forAnyone: readonly string[];
  private readonly timedIds: ReadonlySet<string>;
  private readonly bySpec = new Map<string, string[]>();
  private readonly specsByEvent = new Map<string, StateSpec[]>();
  private readonly byEvent = new Map<string, string[]>();
  private readonly byTrait = new Map<string, string[]>();
  private readonly byValueTrait = new Map<string, string[]>();
  private readonly byTag = new Map<string, string[]>();
  private readonly byList = new Map<string, string[]>();
  private readonly dependents = new Map<string, string[]>();

  private constructor(
    segments: Map<string, CatalogueSegment>,
    failed: Map<string, FailedSegment>,
    definitions: Map<string, Segment>,
  ) {
    this.segments = segments;
    this.failed = failed;
    this.definitions = definitions;
    this.lists = new Set(
      [...definitions.values()]
        .filter((d) => d.kind === SegmentKind.STATIC_LIST)
        .map((definition) => definition.id),
    );
    this.order = [...segments.values()].sort((a, b) => a.rank - b.rank).map((s) => s.id);
    this.timed = this.order.filter((id) => {
      const segment = segments.get(id) as CatalogueSegment;
      return (
        segment.active &&
        segment.realtime &&
        (segment.timeRelative || segment.reentry?.mode === ReentryMode.COOL_DOWN)
      );
    });
    this.timedIds = new Set(this.timed);
    this.forAnyone = this.order.filter(
      (id) => !(segments.get(id) as CatalogueSegment).quietWithoutData,
    );
    const merged = mergeSpecs(
      [...segments.values()].flatMap((s) => [
        ...s.dependencies.specs,
        ...(s.dependencies.contacts?.specs ?? []),
      ]),
    );
    this.specs = new Map(merged.map((spec) => [spec.key, spec]));
    for (const spec of merged) {
      for (const name of eventNamesOf(spec)) push(this.specsByEvent, name, spec);
    }
    for (const id of this.order) {
      const { dependencies } = segments.get(id) as CatalogueSegment;
      for (const name of dependencies.events) push(this.byEvent, name, id);
      for (const path of dependencies.traits) push(this.byTrait, topKey(path), id);
      const { valueTrait } = segments.get(id) as CatalogueSegment;
      if (valueTrait !== '') push(this.byValueTrait, topKey(valueTrait), id);
      for (const tag of dependencies.tags) push(this.byTag, tag, id);
      for (const list of dependencies.lists) push(this.byList, list, id);
      for (const referenced of dependencies.segments) push(this.dependents, referenced, id);
      for (const spec of dependencies.specs) push(this.bySpec, spec.key, id);
    }
    const contacts = this.order.flatMap((id) => {
      const found = (segments.get(id) as CatalogueSegment).dependencies.contacts;
      return found === undefined ? [] : [found];
    });
    this.readingContacts = this.order.filter(
      (id) => (segments.get(id) as CatalogueSegment).dependencies.contacts !== undefined,
    );
    const bound = new Set<string>();
    for (const id of this.order) {
      const segment = segments.get(id) as CatalogueSegment;
      if (
        segment.audience === 'account' &&
        (segment.dependencies.contacts !== undefined ||
          segment.dependencies.segments.some((referenced) => bound.has(referenced)))
      )
        bound.add(id);
    }
    this.contactBound = bound;
    const union = (pick: (d: RuleDependencies) => readonly string[]): string[] =>
      [...new Set(contacts.flatMap(pick))].sort();
    this.contactNeeds =
      contacts.length === 0
        ? undefined
        : {
            traits: union((d) => d.traits.map(topKey)),
            tags: union((d) => d.tags),
            lists: union((d) => d.lists),
            segments: union((d) => d.segments),
            specs: union((d) => d.specs.map((spec) => spec.key)),
          };
    const needs = this.contactNeeds;
    this.contactSignature =
      needs === undefined
        ? ''
        : JSON.stringify({
            needs,
            retained: needs.specs.map((key) => {
              const spec = this.specs.get(key);
              return spec === undefined ? 0 : retainOf(spec);
            }),
            versions: needs.segments.map((id) => {
              const read = definitions.get(id);
              return read === undefined ? null : String(read.version);
            }),
          });
  }

  static empty(): SegmentCatalogue {
    return new SegmentCatalogue(new Map(), new Map(), new Map());
  }

  /**
   * The catalogue of a set of current definitions (the highest version of each live segment).
   * Dynamic profile segments with a rule that validates are evaluated; the rest of the dynamic
   * segments are `failed` with the reason; static lists are only known by id.
   */
  static build({
    definitions,
    limits,
  }: {
    definitions: Iterable<Segment>;
    limits?: Partial<RuleLimits>;
  }): SegmentCatalogue {
    const all = new Map<string, Segment>();
    for (const definition of definitions) all.set(definition.id, definition);
    const failed = new Map<string, FailedSegment>();
    const rules = new Map<string, Rule>();
    const analyses = new Map<string, RuleAnalysis>();
    for (const definition of all.values()) {
      if (definition.kind !== SegmentKind.DYNAMIC) continue;
      const analysis = analysisOf(definition, limits);
      if (analysis.kind === 'evaluable') {
        rules.set(definition.id, definition.rule as Rule);
        analyses.set(definition.id, analysis);
      } else failed.set(definition.id, { definition, reason: analysis.reason });
    }
    const order = orderOf(rules, failed, all);
    const segments = new Map<string, CatalogueSegment>();
    order.forEach((id, rank) => {
      const definition = all.get(id) as Segment;
      const rule = definition.rule as Rule;
      const { compiled, dependencies, quietWithoutData } = analyses.get(id) as EvaluableRule;
      const mode = definition.refresh?.mode ?? RefreshMode.UNSPECIFIED;
      segments.set(id, {
        id,
        version: Number(definition.version),
        definition,
        rule,
        compiled,
        dependencies,
        quietWithoutData,
        audience: audienceOf(definition),
        active: definition.status !== SegmentStatus.INACTIVE,
        realtime: mode === RefreshMode.REALTIME || mode === RefreshMode.UNSPECIFIED,
        timeRelative: dependencies.timeRelative,
        reentry: definition.reentry,
        allTime: dependencies.eventConditions.some(
          (c) => c.window === undefined || c.measure === 'firstSeen' || c.measure === 'lastSeen',
        ),
        rank,
        valueTrait: definition.valueTrait,
      });
    });
    return new SegmentCatalogue(segments, failed, all);
  }

  get(id: string): CatalogueSegment | undefined {
    return this.segments.get(id);
  }

  /** Whether changes and timers evaluate this segment (active and REALTIME). */
  isLive(id: string): boolean {
    const segment = this.segments.get(id);
    return segment !== undefined && segment.active && segment.realtime;
  }

  specsForEvent(name: string): readonly StateSpec[] {
    return this.specsByEvent.get(name) ?? NONE_SPECS;
  }

  segmentsReadingEvent(name: string): readonly string[] {
    return this.byEvent.get(name) ?? NONE;
  }

  /** Segments reading a trait whose top-level key is `key` (a path "address.city" reads "address"). */
  segmentsReadingTrait(key: string): readonly string[] {
    return this.byTrait.get(key) ?? NONE;
  }

  /** Segments whose value trait's top-level key is `key` (their members' values may change). */
  segmentsValuingTrait(key: string): readonly string[] {
    return this.byValueTrait.get(key) ?? NONE;
  }

  segmentsReadingTag(tag: string): readonly string[] {
    return this.byTag.get(tag) ?? NONE;
  }

  segmentsReadingList(list: string): readonly string[] {
    return this.byList.get(list) ?? NONE;
  }

  /** Segments whose rules reference `segmentId`. */
  dependentsOf(segmentId: string): readonly string[] {
    return this.dependents.get(segmentId) ?? NONE;
  }

  /** Whether timers evaluate this segment (see `timed`). */
  isTimed(id: string): boolean {
    return this.timedIds.has(id);
  }

  /**
   * Calls `visit` (possibly more than once per segment) with every segment whose rule reads
   * something `state` has: its traits, tags, lists, memberships, event state and contacts. The
   * others read nothing of it, so their value for it is their value for a subject with nothing.
   */
  segmentsReadingState(state: EvaluationState, visit: (segmentId: string) => void): void {
    const all = (ids: readonly string[]): void => {
      for (const id of ids) visit(id);
    };
    for (const key of Object.keys(state.traits)) all(this.segmentsReadingTrait(key));
    for (const tag of state.tags) all(this.segmentsReadingTag(tag));
    for (const list of state.lists) all(this.segmentsReadingList(list));
    for (const id of Object.keys(state.segments)) all(this.dependentsOf(id));
    for (const key of Object.keys(state.aggregates)) all(this.bySpec.get(key) ?? NONE);
    for (const key of Object.keys(state.recency)) all(this.bySpec.get(key) ?? NONE);
    for (const key of Object.keys(state.sequences)) all(this.bySpec.get(key) ?? NONE);
    if (state.contacts !== undefined && state.contacts.length > 0) all(this.readingContacts);
  }
}

/** What a definition's rule is, analysed once per definition version. */
type RuleAnalysis = EvaluableRule | { readonly kind: 'failed'; readonly reason: string };

interface EvaluableRule {
  readonly kind: 'evaluable';
  readonly compiled: CompiledRule;
  readonly dependencies: RuleDependencies;
  readonly quietWithoutData: boolean;
}

// A definition version is immutable and the definitions service keeps each one's object until a
// newer version replaces it, so a catalogue rebuilt for one changed definition re-analyses only it.
const analyses = new WeakMap<Segment, Map<string, RuleAnalysis>>();
const NOTHING: EvaluationState = emptyState();

function analysisOf(definition: Segment, limits: Partial<RuleLimits> | undefined): RuleAnalysis {
  const key = limits === undefined ? '' : JSON.stringify(limits);
  let byLimits = analyses.get(definition);
  const cached = byLimits?.get(key);
  if (cached !== undefined) return cached;
  const reason = unsupportedReason(definition, limits);
  let analysis: RuleAnalysis;
  if (reason !== undefined) analysis = { kind: 'failed', reason };
  else {
    const rule = definition.rule as Rule;
    const compiled = compileRule({ rule, limits });
    analysis = {
      kind: 'evaluable',
      compiled,
      dependencies: dependenciesOf({ rule, limits }),
      quietWithoutData:
        !compiled.root.evaluate(NOTHING, NOTHING_READ_SINCE) &&
        nextChange({ rule, compiled, state: NOTHING, now: NOTHING_READ_SINCE, limits }) ===
          undefined,
    };
  }
  if (byLimits === undefined) {
    byLimits = new Map();
    analyses.set(definition, byLimits);
  }
  byLimits.set(key, analysis);
  return analysis;
}

const NONE: readonly string[] = [];
const NONE_SPECS: readonly StateSpec[] = [];

/**
 * Appends `value` to the list of `key`. Segments are indexed one after the other, so a segment
 * naming a key twice (two paths under one trait) finds itself last: checking the last element
 * dedupes without a scan (10,000 segments on one event made the scan quadratic).
 */
function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (list[list.length - 1] !== value) list.push(value);
}

function topKey(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}

function eventNamesOf(spec: StateSpec): string[] {
  switch (spec.kind) {
    case 'aggregate':
    case 'recency':
      return [spec.event];
    case 'sequence':
      return [
        ...spec.steps.map((step) => step.event),
        ...(spec.followUp === undefined ? [] : [spec.followUp.event]),
      ];
  }
}

function unsupportedReason(
  definition: Segment,
  limits: Partial<RuleLimits> | undefined,
): string | undefined {
  const rule = definition.rule;
  if (rule === undefined) return 'the segment has no rule';
  if (
    definition.audience !== Audience.UNSPECIFIED &&
    rule.audience !== Audience.UNSPECIFIED &&
    definition.audience !== rule.audience
  )
    return 'the segment and its rule name different audiences';
  const { violations } = validateRule({ rule, limits });
  if (violations.length > 0)
    return `the rule is invalid: ${violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`;
  return undefined;
}

/** Whom a segment selects: an account audience on the segment or its rule makes it an account segment. */
export function audienceOf(definition: Segment): SubjectKind {
  return definition.audience === Audience.ACCOUNTS ||
    definition.rule?.audience === Audience.ACCOUNTS
    ? 'account'
    : 'profile';
}

/**
 * Dependency order of the evaluable segments. A segment referencing a failed or missing segment
 * still evaluates (the reference reads as "not a member"); segments in a reference cycle (which
 * the segments service refuses, but a definition topic may still carry) fail.
 */
function orderOf(
  rules: Map<string, Rule>,
  failed: Map<string, FailedSegment>,
  all: Map<string, Segment>,
): string[] {
  for (;;) {
    try {
      return evaluationOrder(rules);
    } catch (error) {
      const cycle = /cycle: (.*)$/.exec((error as Error).message)?.[1]?.split(' → ') ?? [];
      const ids = cycle.filter((id) => rules.has(id));
      if (ids.length === 0) throw error;
      for (const id of ids) {
        rules.delete(id);
        failed.set(id, {
          definition: all.get(id) as Segment,
          reason: `segment references form a cycle: ${cycle.join(' → ')}`,
        });
      }
    }
  }
}

/** The job id of the re-evaluation after a rule change: the same in every partition. */
export function ruleChangeJobId(segmentId: string, version: number): string {
  return `${segmentId}@v${version}`;
}

/**
 * The live segments a new catalogue re-evaluates because their rule or value trait changed: new
 * versions of segments the partition had applied whose previous definition differs in rule or
 * value trait, or is not known any more (the partition was loaded since).
 */
export function ruleChangesOf({
  previous,
  applied,
  next,
}: {
  previous: SegmentCatalogue;
  applied: CatalogueSummary;
  next: SegmentCatalogue;
}): CatalogueSegment[] {
  return [...next.segments.values()].filter((segment) => {
    const was = applied.versions[segment.id];
    if (was === undefined || was === segment.version || !next.isLive(segment.id)) return false;
    const before = previous.get(segment.id);
    if (before === undefined || before.version !== was) return true;
    return (
      !equals(RuleSchema, before.rule, segment.rule) || before.valueTrait !== segment.valueTrait
    );
  });
}

/** What a partition has applied of a catalogue: enough to tell what a newer one changes. */
export interface CatalogueSummary {
  /** Definition version of every dynamic segment (evaluable or failed). */
  readonly versions: Readonly<Record<string, number>>;
  /** Every maintained spec key, with the buckets it retains (0 for unbucketed specs). */
  readonly specs: Readonly<Record<string, number>>;
  readonly lists: readonly string[];
  /** The catalogue's contact signature (absent: ''). */
  readonly contacts?: string;
}

export const EMPTY_SUMMARY: CatalogueSummary = { versions: {}, specs: {}, lists: [] };

export function summaryOf(catalogue: SegmentCatalogue): CatalogueSummary {
  const versions: Record<string, number> = {};
  for (const segment of catalogue.segments.values()) versions[segment.id] = segment.version;
  for (const { definition } of catalogue.failed.values())
    versions[definition.id] = Number(definition.version);
  const specs: Record<string, number> = {};
  for (const spec of catalogue.specs.values()) specs[spec.key] = retainOf(spec);
  return {
    versions,
    specs,
    lists: [...catalogue.lists].sort(),
    ...(catalogue.contactSignature === '' ? {} : { contacts: catalogue.contactSignature }),
  };
}

/** How many buckets a spec keeps (0 for specs that are not bucketed by time). */
export function retainOf(spec: StateSpec): number {
  if (spec.kind === 'recency') return 0;
  return 'retain' in spec.bucketing ? spec.bucketing.retain : 0;
}
