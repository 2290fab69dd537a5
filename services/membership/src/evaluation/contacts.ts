import type { TransitionCause } from '@shoal/contracts';
import { emptyState, type EvaluationState } from '@shoal/rules';

// Contacts cross partitions: a profile lives in the partition its id hashes to, its accounts in
// the partitions their ids hash to. The profile's partition publishes the profile's state,
// reduced to what `contacts.where` conditions read, keyed by account id on the internal contacts
// topic (co-partitioned with the profile changes); the account's partition folds it into the
// account's `state.contacts` (docs/membership.md, "Contacts").

/** What every `contacts.where` condition of the current segments reads of a contact. */
export interface ContactNeeds {
  /** Top-level trait keys. */
  readonly traits: readonly string[];
  readonly tags: readonly string[];
  readonly lists: readonly string[];
  readonly segments: readonly string[];
  /** Keys of the state specs (aggregates, recency, sequences). */
  readonly specs: readonly string[];
}

/**
 * Orders the records of one profile: they are compared field by field in this order, so a
 * record caused by later input, or evaluated later, wins. Offsets keep growing across an erasure
 * and a new incarnation (which needs a new `account_joined` to publish anything), so a new
 * incarnation's records are newer than the removal of the old one.
 */
export interface ContactVersion {
  /** The profile's offset in the profile-change topic. */
  readonly changes: number;
  /** Its offset in the list-member topic. */
  readonly lists: number;
  /** The instant the profile was evaluated at. */
  readonly at: number;
  /** A per-profile counter (several records at one instant and offsets). */
  readonly n: number;
}

/** One contact's state for one account; without `state`, the profile left the account. */
export interface ContactRecord {
  readonly kind: 'contact';
  readonly accountId: string;
  readonly profileId: string;
  readonly version: ContactVersion;
  /** What changed the contact (the account's transitions carry it). */
  readonly cause: TransitionCause;
  readonly state?: EvaluationState;
}

/**
 * A partition has published every contact record a catalogue with these contact needs asks for
 * (after a change of contact needs, or of a segment they read). Sent to every partition.
 */
export interface ContactsSettled {
  readonly kind: 'settled';
  readonly signature: string;
  /** Filled in by the runtime: the sending partition and the partition count. */
  readonly partition: number;
  readonly partitionCount: number;
}

export type ContactMessage = ContactRecord | ContactsSettled;

export function compareVersions(a: ContactVersion, b: ContactVersion): number {
  return a.changes - b.changes || a.lists - b.lists || a.at - b.at || a.n - b.n;
}

/** A profile's state reduced to what the contact needs read (deterministic, so comparable as JSON). */
export function contactStateOf(state: EvaluationState, needs: ContactNeeds): EvaluationState {
  const pick = <T>(from: Readonly<Record<string, T>>, keys: readonly string[]) => {
    const out: Record<string, T> = {};
    for (const key of keys) if (key in from) out[key] = from[key] as T;
    return out;
  };
  return emptyState({
    traits: pick(state.traits, needs.traits),
    tags: state.tags.filter((tag) => needs.tags.includes(tag)),
    lists: state.lists.filter((list) => needs.lists.includes(list)),
    segments: pick(state.segments, needs.segments),
    aggregates: pick(state.aggregates, needs.specs),
    recency: pick(state.recency, needs.specs),
    sequences: pick(state.sequences, needs.specs),
  });
}

/** What the evaluation core publishes: contact records, and `settled` (the runtime addresses it). */
export type ContactOutput = ContactRecord | Pick<ContactsSettled, 'kind' | 'signature'>;

/**
 * What an account partition has heard of the contact signatures: the one its account segments
 * wait for (if any), and which partitions said they published their contacts under each.
 */
export interface ContactsProgress {
  readonly pending?: string;
  readonly settled: Readonly<Record<string, readonly number[]>>;
}

export const NO_CONTACTS_PROGRESS: ContactsProgress = { settled: {} };
