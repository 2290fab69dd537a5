import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { IdentityKind, type Profile, type RefreshJob } from '@shoal/contracts';

/** The 30-day change of a member count: "+12 (+4.5%)", "−3", "0"; "—" without a snapshot. */
export function changeText(summary: { change30d?: bigint; change30dPercent?: number }): string {
  if (summary.change30d === undefined) return '—';
  const sign = (n: number | bigint) => (n > 0 ? '+' : n < 0 ? '−' : '');
  const abs = (n: bigint) => (n < 0n ? -n : n);
  const count = `${sign(summary.change30d)}${abs(summary.change30d).toLocaleString('en')}`;
  if (summary.change30dPercent === undefined) return count;
  const percent = Math.abs(summary.change30dPercent).toFixed(1);
  return `${count} (${sign(summary.change30dPercent)}${percent}%)`;
}

/** How far a refresh job is: a percentage when its total is known, and the counts in words. */
export function jobProgress(job: RefreshJob): { percent?: number; label: string } {
  const processed = Number(job.processed);
  const total = Number(job.total);
  const parts = [
    total > 0
      ? `${processed.toLocaleString('en')} of ${total.toLocaleString('en')} profiles`
      : `${processed.toLocaleString('en')} profiles`,
    `${Number(job.entered).toLocaleString('en')} entered`,
    `${Number(job.exited).toLocaleString('en')} exited`,
  ];
  if (job.partitionCount > 0)
    parts.push(`${job.partitionsDone} of ${job.partitionCount} partitions`);
  return {
    ...(total > 0 ? { percent: Math.min(100, Math.round((processed / total) * 100)) } : {}),
    label: parts.join(' · '),
  };
}

/** A members-table column as the CSV download names it: identity:<trait> or trait:<path>. */
export const COLUMN = /^(identity|trait):([A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*)$/;

/** A column's cell for one profile: its identifiers of that kind, or the trait's value. */
export function cellOf(profile: Profile | undefined, column: string): string {
  const match = COLUMN.exec(column);
  if (!profile || !match) return '';
  const [, kind, name] = match as unknown as [string, string, string];
  if (kind === 'identity')
    return profile.identities
      .filter((i) => i.kind === IdentityKind.TRAIT && i.trait === name)
      .map((i) => i.value)
      .join(', ');
  let value: JsonValue | undefined = profile.traits;
  for (const key of name.split('.'))
    value =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as JsonObject)[key]
        : undefined;
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Columns worth offering for these profiles: their identifier traits and top-level traits. */
export function offeredColumns(profiles: readonly Profile[]): string[] {
  const columns = new Set<string>();
  for (const profile of profiles) {
    for (const identity of profile.identities)
      if (identity.kind === IdentityKind.TRAIT) columns.add(`identity:${identity.trait}`);
    for (const key of Object.keys(profile.traits ?? {}))
      if (COLUMN.test(`trait:${key}`)) columns.add(`trait:${key}`);
  }
  return [...columns].sort();
}

/** The console's CSV download of a segment's members with the profile id and these columns. */
export function membersCsvHref(segmentId: string, columns: readonly string[]): string {
  const chosen = ['profile_id', ...columns.filter((c) => COLUMN.test(c))];
  return `/download/segments/${encodeURIComponent(segmentId)}/members.csv?columns=${chosen
    .map(encodeURIComponent)
    .join(',')}`;
}
