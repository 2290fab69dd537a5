import type { StoredDeadLetter } from './destinations.repository.port';

/** A dead letter's payload as written: a JSON array of records, or undefined when it is not. */
export function payloadRecords(payload: string): Record<string, unknown>[] | undefined {
  try {
    const parsed: unknown = JSON.parse(payload);
    return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : undefined;
  } catch {
    return undefined;
  }
}

const profileIdOf = (record: Record<string, unknown> | null) =>
  typeof record?.profileId === 'string' ? record.profileId : undefined;

/** The profiles a dead letter holds records of, each once. */
export function subjectsOf(payload: string): string[] {
  return [...new Set((payloadRecords(payload) ?? []).flatMap((r) => profileIdOf(r) ?? []))];
}

/** A dead letter after erased profiles' records were taken out of it. */
export type Scrubbed =
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'emptied' }
  | { readonly outcome: 'rewritten'; readonly stored: StoredDeadLetter };

/**
 * The dead letter without the records of the erased profiles: rewritten with the others (their
 * queue positions kept beside them), or emptied when none is left. A payload that is not a list
 * of records and names an erased profile anywhere goes whole.
 */
export function withoutProfiles(
  { letter, positions, revision }: StoredDeadLetter,
  erased: ReadonlySet<string>,
): Scrubbed {
  const records = payloadRecords(letter.payload);
  if (!records)
    return [...erased].some((id) => letter.payload.includes(id))
      ? { outcome: 'emptied' }
      : { outcome: 'unchanged' };
  const kept = records.map((record) => !erased.has(profileIdOf(record) ?? ''));
  if (kept.every(Boolean)) return { outcome: 'unchanged' };
  if (!kept.some(Boolean)) return { outcome: 'emptied' };
  const aligned = positions.length === records.length;
  const remaining = records.filter((_, i) => kept[i]);
  return {
    outcome: 'rewritten',
    stored: {
      letter: {
        ...letter,
        payload: JSON.stringify(remaining),
        records: BigInt(remaining.length),
      },
      positions: aligned ? positions.filter((_, i) => kept[i]) : [],
      ...(revision !== undefined ? { revision } : {}),
    },
  };
}
