import {
  applyEventToState,
  emptyState,
  pruneState,
  type EvaluationState,
  type StateSpec,
} from '@shoal/rules';
import type { HistoryChunk, HistoryEvent } from './profile-state';

/**
 * Rebuilds the state of some specs for every profile of a partition from its event history.
 * Chunks may come in any order (the rule library's state is a function of the event set, not
 * of arrival order); each chunk counts once, and only chunks the profile's state lists.
 */
export class SpecBackfill {
  private readonly partial = new Map<string, EvaluationState>();
  private readonly seen = new Set<string>();

  constructor(
    readonly specs: readonly StateSpec[],
    private readonly accepts: (chunk: HistoryChunk) => boolean,
  ) {}

  addChunk(chunk: HistoryChunk): void {
    if (this.seen.has(chunk.id) || !this.accepts(chunk)) return;
    this.seen.add(chunk.id);
    this.addEvents(chunk.profileId, chunk.events);
  }

  addEvents(profileId: string, events: readonly HistoryEvent[]): void {
    if (events.length === 0) return;
    let state = this.partial.get(profileId) ?? emptyState();
    for (const event of events) {
      state = applyEventToState({
        state,
        specs: this.specs,
        event: { name: event.n, timestamp: event.t, properties: event.p },
      });
    }
    this.partial.set(profileId, state);
  }

  /** `state` with the rebuilt specs in place of whatever it held for them. */
  install(profileId: string, state: EvaluationState, now: number): EvaluationState {
    const rebuilt = pruneState({
      state: this.partial.get(profileId) ?? emptyState(),
      specs: this.specs,
      now,
    });
    this.partial.delete(profileId);
    const aggregates = { ...state.aggregates };
    const recency = { ...state.recency };
    const sequences = { ...state.sequences };
    for (const { key } of this.specs) {
      replace(aggregates, key, rebuilt.aggregates[key]);
      replace(recency, key, rebuilt.recency[key]);
      replace(sequences, key, rebuilt.sequences[key]);
    }
    return { ...state, aggregates, recency, sequences };
  }
}

function replace<T>(entries: Record<string, T>, key: string, value: T | undefined): void {
  if (value === undefined) delete entries[key];
  else entries[key] = value;
}
