import { status } from '@grpc/grpc-js';
import { toJson } from '@bufbuild/protobuf';
import { type Timestamp, ValueSchema, timestampDate } from '@bufbuild/protobuf/wkt';
import {
  type ConditionExplanation,
  type DeadLetter,
  type Destination,
  JobStatus,
  type RedeliverDeadLettersResponse,
  RefreshMode,
  type RefreshJob,
  SegmentKind,
  type Segment,
  SegmentState,
  SegmentStatus,
  SyncRunKind,
  TransitionCause,
  TransitionKind,
  type MembershipTransition,
  Visibility,
} from '@shoal/contracts';
import { GrpcCallError } from '@shoal/platform';
import { describeNumber } from '@shoal/rules';
import { EXIT } from '../command-line';

/** Columns padded to their widest cell, two spaces apart; the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => (cell ?? '').padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** The enum name without its prefix, lower case: SEGMENT_STATE_READY → ready. */
export function enumName(values: Record<number, string>, value: number, prefix: string): string {
  const name = values[value];
  if (name === undefined) return String(value);
  return name.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name.toLowerCase();
}

export function formatTime(timestamp: Timestamp | undefined): string {
  return timestamp
    ? timestampDate(timestamp)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
    : '-';
}

export function segmentTable(segments: readonly Segment[]): string {
  return formatTable([
    ['ID', 'NAME', 'KIND', 'STATUS', 'STATE', 'REFRESH', 'MEMBERS', 'VERSION', 'UPDATED'],
    ...segments.map((s) => [
      s.id,
      s.name,
      kindName(s.kind),
      enumName(SegmentStatus, s.status, 'SEGMENT_STATUS_'),
      enumName(SegmentState, s.state, 'SEGMENT_STATE_'),
      s.kind === SegmentKind.STATIC_LIST ? '-' : refreshName(s),
      String(s.memberCount),
      String(s.version),
      formatTime(s.updatedAt),
    ]),
  ]);
}

/** One segment as "field: value" lines, its rule as JSON under them. */
export function segmentDetails(segment: Segment, ruleJson: unknown): string {
  const lines: [string, string][] = [
    ['id', segment.id],
    ['name', segment.name],
    ['description', segment.description || '-'],
    ['kind', kindName(segment.kind)],
    ['tags', segment.tags.join(', ') || '-'],
    ['status', enumName(SegmentStatus, segment.status, 'SEGMENT_STATUS_')],
    [
      'state',
      enumName(SegmentState, segment.state, 'SEGMENT_STATE_') +
        (segment.stateDetail ? ` (${segment.stateDetail})` : ''),
    ],
    ['refresh', segment.kind === SegmentKind.STATIC_LIST ? '-' : refreshName(segment)],
    ['visibility', enumName(Visibility, segment.visibility, 'VISIBILITY_')],
    ['owner', segment.owner],
    ['version', String(segment.version)],
    ['members', String(segment.memberCount)],
    ['last refreshed', formatTime(segment.lastRefreshedAt)],
    ['updated', `${formatTime(segment.updatedAt)} by ${segment.updatedBy || '-'}`],
    ['locked', segment.lock?.locked ? `yes, by ${segment.lock.destinationIds.join(', ')}` : 'no'],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  const text = lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
  return ruleJson === undefined
    ? `${text}\n`
    : `${text}\nrule:\n${indent(JSON.stringify(ruleJson, null, 2))}\n`;
}

export function jobTable(jobs: readonly RefreshJob[]): string {
  return formatTable([
    ['ID', 'SEGMENT', 'STATUS', 'PROGRESS', 'ENTERED', 'EXITED', 'CREATED', 'ERROR'],
    ...jobs.map((j) => [
      j.id,
      j.segmentId,
      enumName(JobStatus, j.status, 'JOB_STATUS_'),
      j.total > 0n ? `${j.processed}/${j.total}` : String(j.processed),
      String(j.entered),
      String(j.exited),
      formatTime(j.createdAt),
      j.error,
    ]),
  ]);
}

export function destinationTable(destinations: readonly Destination[]): string {
  return formatTable([
    ['ID', 'NAME', 'KIND', 'TARGET', 'SEGMENTS'],
    ...destinations.map((d) => [
      d.id,
      d.name,
      d.config?.kind.case ?? '-',
      destinationTarget(d),
      d.links.map((l) => `${l.segmentId}${l.autoSync ? ' (auto)' : ''}`).join(', ') || '-',
    ]),
  ]);
}

export function deadLetterTable(letters: readonly DeadLetter[]): string {
  return formatTable([
    ['ID', 'SEGMENT', 'KIND', 'RECORDS', 'ATTEMPTS', 'DEAD-LETTERED', 'ERROR'],
    ...letters.map((l) => [
      l.id,
      l.segmentId || '-',
      enumName(SyncRunKind, l.runKind, 'SYNC_RUN_KIND_'),
      String(l.records),
      String(l.attempts),
      formatTime(l.deadLetteredAt),
      l.error,
    ]),
  ]);
}

/** What a redelivery did: what was queued again, then each dead letter left and why. */
export function redeliveryLines(answer: RedeliverDeadLettersResponse): string {
  const plural = (n: number | bigint, word: string) =>
    `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;
  return [
    `queued again: ${plural(answer.redelivered, 'dead letter')}, ${plural(answer.records, 'record')}`,
    ...answer.skipped.map((s) => `skipped ${s.deadLetterId}: ${s.reason}`),
    ...(answer.notFoundIds.length > 0
      ? [
          `not dead letters of this destination (or already sent again): ${answer.notFoundIds.join(', ')}`,
        ]
      : []),
    ...(answer.remaining > 0n
      ? [`${plural(answer.remaining, 'dead letter')} left: --all sends them`]
      : []),
  ]
    .map((line) => `${line}\n`)
    .join('');
}

function destinationTarget(destination: Destination): string {
  const kind = destination.config?.kind;
  switch (kind?.case) {
    case 'webhook':
      return kind.value.url;
    case 'kafkaTopic':
      return kind.value.topic;
    case 'file':
      return kind.value.directory;
    default:
      return '-';
  }
}

/** The explanation tree, one condition a line, ✓ or ✗ before it, indented by depth. */
export function explanationLines(node: ConditionExplanation | undefined, depth = 0): string[] {
  if (!node) return [];
  const value = node.observed === undefined ? undefined : toJson(ValueSchema, node.observed);
  const observed =
    value === undefined
      ? ''
      : ` (observed ${typeof value === 'number' ? describeNumber(value) : JSON.stringify(value)})`;
  const line = `${'  '.repeat(depth)}${node.matched ? '✓' : '✗'} ${node.summary || node.path}${observed}`;
  return [
    line,
    ...node.notes.map((note) => `${'  '.repeat(depth + 1)}note: ${note}`),
    ...node.children.flatMap((child) => explanationLines(child, depth + 1)),
  ];
}

export function transitionLine(transition: MembershipTransition): string {
  return [
    formatTime(transition.occurredAt),
    enumName(TransitionKind, transition.kind, 'TRANSITION_KIND_').padEnd(7),
    transition.segmentId,
    transition.profileId,
    `cause=${enumName(TransitionCause, transition.cause, 'TRANSITION_CAUSE_')}`,
    `seq=${transition.sequence}`,
  ].join('  ');
}

/** A refused rule's problems, one per line, each with the path to the bad node. */
export function violationLines(
  violations: readonly { field: string; description: string }[],
): string[] {
  return violations.map((v) => `  ${v.field || '(request)'}: ${v.description}`);
}

/** What a failed call prints, and the exit code it ends with. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (!(error instanceof GrpcCallError)) {
    return {
      message: `shoal: ${error instanceof Error ? error.message : String(error)}\n`,
      exitCode: EXIT.failure,
    };
  }
  const code = status[error.code] ?? String(error.code);
  // the details repeat the violations on one line; with them, each goes on its own
  const count = error.violations.length;
  const headline =
    count > 0 ? `${count} problem${count === 1 ? '' : 's'} with the request:` : error.details;
  const lines = [`shoal: ${code}: ${headline}`, ...violationLines(error.violations)];
  if (error.code === status.UNAVAILABLE) {
    lines.push('  is Shoal running? ./shoal status (./shoal up starts it)');
  }
  return { message: `${lines.join('\n')}\n`, exitCode: exitCodeOf(error.code) };
}

export function exitCodeOf(code: status): number {
  switch (code) {
    case status.OK:
      return EXIT.ok;
    case status.NOT_FOUND:
      return EXIT.notFound;
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.ALREADY_EXISTS:
    case status.ABORTED:
    case status.OUT_OF_RANGE:
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
    case status.RESOURCE_EXHAUSTED:
      return EXIT.refused;
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return EXIT.unavailable;
    default:
      return EXIT.failure;
  }
}

/** `[#####-----]  50%  500/1000 ids` — a bar when the total is known, a count otherwise. */
export function progressLine(done: number, total: number | undefined, unit: string): string {
  if (!total) return `${done} ${unit}`;
  const fraction = Math.min(1, done / total);
  const width = 30;
  const filled = Math.round(fraction * width);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}  ${done}/${total} ${unit}`;
}

function kindName(kind: SegmentKind): string {
  return kind === SegmentKind.STATIC_LIST ? 'list' : 'dynamic';
}

function refreshName(segment: Segment): string {
  const mode = segment.refresh?.mode ?? RefreshMode.UNSPECIFIED;
  const name =
    mode === RefreshMode.UNSPECIFIED ? 'realtime' : enumName(RefreshMode, mode, 'REFRESH_MODE_');
  return segment.refresh?.cron ? `${name} (${segment.refresh.cron})` : name;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
