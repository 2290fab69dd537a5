import type { CatalogueSegment } from './segment-catalogue';
import type { ProfileState } from './profile-state';

// What a rule can read of a subject, as keys comparable without the rule or the state at hand:
// a packed profile keeps the keys of what it holds, and a refresh tells from them alone whether
// the segment reads anything of it (the same test as `SegmentCatalogue.segmentsReadingState`).

const TRAIT = 't\u0000';
const TAG = 'g\u0000';
const LIST = 'l\u0000';
const MEMBERSHIP = 's\u0000';
const SPEC = 'k\u0000';
const PAIR = 'p\u0000';

/**
 * The keys of what a subject's state holds that rules read (top-level traits, tags, lists,
 * memberships, event state), and of the segments it has a pair with.
 */
export function readKeysOfState(subject: Pick<ProfileState, 'state' | 'pairs'>): string[] {
  const { state } = subject;
  const keys: string[] = [];
  for (const key of Object.keys(state.traits)) keys.push(TRAIT + key);
  for (const tag of state.tags) keys.push(TAG + tag);
  for (const list of state.lists) keys.push(LIST + list);
  for (const id of Object.keys(state.segments)) keys.push(MEMBERSHIP + id);
  for (const key of Object.keys(state.aggregates)) keys.push(SPEC + key);
  for (const key of Object.keys(state.recency)) keys.push(SPEC + key);
  for (const key of Object.keys(state.sequences)) keys.push(SPEC + key);
  for (const id of Object.keys(subject.pairs)) keys.push(PAIR + id);
  return keys;
}

/**
 * The keys a subject must hold one of for the segment's evaluation of it to differ from its
 * evaluation of a subject with nothing and no pair with it. Contacts are not among them: only
 * accounts hold contacts, and a refresh always revives accounts.
 */
export function readKeysOfSegment(segment: CatalogueSegment): ReadonlySet<string> {
  const { dependencies } = segment;
  return new Set([
    ...dependencies.traits.map((path) => TRAIT + topKeyOf(path)),
    ...dependencies.tags.map((tag) => TAG + tag),
    ...dependencies.lists.map((list) => LIST + list),
    ...dependencies.segments.map((id) => MEMBERSHIP + id),
    ...dependencies.specs.map((spec) => SPEC + spec.key),
    PAIR + segment.id,
  ]);
}

function topKeyOf(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}
