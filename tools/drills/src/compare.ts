import { type ExpectedOutcome, type TransitionKind, pairKey } from './expected';

/** One transition as consumed from `shoal.membership.changes`, its segment by drill name. */
export interface SeenTransition {
  readonly id: string;
  readonly profileId: string;
  readonly segment: string;
  readonly sequence: number;
  readonly kind: TransitionKind;
}

/** How the consumed stream compares with the oracle; every list holds readable examples. */
export interface TransitionComparison {
  readonly expected: number;
  /** Records consumed, re-deliveries included. */
  readonly seen: number;
  /** Distinct transition ids. */
  readonly distinct: number;
  /** Records whose id had been seen already: detectable re-deliveries. */
  readonly redelivered: number;
  /** Expected transitions no record carried. */
  readonly missing: readonly string[];
  /** Transitions the oracle did not decide: a wrong kind, or a sequence past the pair's last. */
  readonly unexpected: readonly string[];
  /** The same (pair, sequence) published under two ids: a duplicate a consumer cannot drop. */
  readonly duplicated: readonly string[];
  /** One id carrying two different transitions. */
  readonly conflicting: readonly string[];
}

/**
 * Compares what was consumed with what the input decides. A pair's sequence numbers count its
 * transitions from 1, so expected transition n of a pair is the one with sequence n.
 */
export function compareTransitions(
  expected: ExpectedOutcome,
  seen: readonly SeenTransition[],
): TransitionComparison {
  const meaningById = new Map<string, string>();
  const idsByPairSequence = new Map<string, Set<string>>();
  const conflicting: string[] = [];
  let redelivered = 0;
  for (const t of seen) {
    const meaning = `${pairKey(t.profileId, t.segment)} #${t.sequence} ${t.kind}`;
    const before = meaningById.get(t.id);
    if (before !== undefined) {
      redelivered += 1;
      if (before !== meaning) conflicting.push(`${t.id}: "${before}" and "${meaning}"`);
      continue;
    }
    meaningById.set(t.id, meaning);
    const ids = idsByPairSequence.get(meaning) ?? new Set<string>();
    ids.add(t.id);
    idsByPairSequence.set(meaning, ids);
  }

  const missing: string[] = [];
  const expectedMeanings = new Set<string>();
  let total = 0;
  for (const [pair, kinds] of expected.transitions) {
    kinds.forEach((kind, i) => {
      total += 1;
      const meaning = `${pair} #${i + 1} ${kind}`;
      expectedMeanings.add(meaning);
      if (!idsByPairSequence.has(meaning)) missing.push(meaning);
    });
  }
  const unexpected: string[] = [];
  const duplicated: string[] = [];
  for (const [meaning, ids] of idsByPairSequence) {
    if (!expectedMeanings.has(meaning)) unexpected.push(meaning);
    if (ids.size > 1) duplicated.push(`${meaning} (ids ${[...ids].join(', ')})`);
  }
  return {
    expected: total,
    seen: seen.length,
    distinct: meaningById.size,
    redelivered,
    missing,
    unexpected,
    duplicated,
    conflicting,
  };
}

/** Whether the stream matched the oracle: nothing missing, unexpected or duplicated. */
export function transitionsMatch(c: TransitionComparison): boolean {
  return (
    c.missing.length === 0 &&
    c.unexpected.length === 0 &&
    c.duplicated.length === 0 &&
    c.conflicting.length === 0
  );
}
