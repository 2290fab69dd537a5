import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import {
  type DescMessage,
  create,
  type MessageInitShape,
  type MessageShape,
  fromBinary,
  toJson,
} from '@bufbuild/protobuf';
import {
  ActivateSegmentResponseSchema,
  CancelJobResponseSchema,
  ChangeAction,
  CountMembersResponseSchema,
  CreateDestinationResponseSchema,
  CreateSegmentResponseSchema,
  CsvColumnKind,
  DeactivateSegmentResponseSchema,
  DeleteSegmentResponseSchema,
  DuplicateSegmentResponseSchema,
  ExplainResponseSchema,
  GetDestinationResponseSchema,
  GetSegmentHistoryResponseSchema,
  GetSegmentResponseSchema,
  IsMemberResponseSchema,
  JobStatus,
  LinkSegmentResponseSchema,
  ListDeadLettersResponseSchema,
  ListDestinationsResponseSchema,
  ListJobsResponseSchema,
  ListSegmentsResponseSchema,
  MembershipTransitionSchema,
  PreviewResponseSchema,
  RefreshMode,
  type RefreshJob,
  type UpstreamEvent,
  RedeliverDeadLettersResponseSchema,
  RefreshNowResponseSchema,
  RenameSegmentResponseSchema,
  RevertSegmentResponseSchema,
  RuleSchema,
  SegmentDraftSchema,
  SegmentKind,
  type Segment,
  SegmentState,
  SkippedDeadLetterSchema,
  SyncMode,
  SyncNowResponseSchema,
  UpdateSegmentResponseSchema,
  Visibility,
  membershipChangesTopic,
} from '@shoal/contracts';
import { TopicNames } from '@shoal/platform';
import { Kafka, logLevel } from 'kafkajs';
import { EXIT } from '../command-line';
import type { ApiCommand, DestinationTarget, SegmentFields } from './api-command-line';
import { type Connection, type ShoalClients, connect } from './connection';
import {
  deadLetterTable,
  describeFailure,
  destinationTable,
  enumName,
  explanationLines,
  formatTable,
  formatTime,
  jobTable,
  progressLine,
  redeliveryLines,
  segmentDetails,
  segmentTable,
  transitionLine,
} from './format';
import { InputError, parseIdsCsv, parseRuleFile, parseEventsFile } from './inputs';

/** What a command needs: the clients, where output goes, Kafka for `events tail`. */
export interface ApiContext {
  readonly clients: ShoalClients;
  /** Results: tables or JSON. */
  out(text: string): void;
  /** Progress and notes, kept off stdout so `--json` and `export` output stay clean. */
  progress: Progress;
  readonly kafkaBrokers: readonly string[];
  readonly topicPrefix: string;
  readonly signal: AbortSignal;
}

/** A progress line on stderr: redrawn in place on a terminal, a line now and then elsewhere. */
export interface Progress {
  update(line: string): void;
  done(line: string): void;
}

const TERMINAL_JOB = new Set([
  JobStatus.SUCCEEDED,
  JobStatus.FAILED,
  JobStatus.CANCELLED,
  JobStatus.SKIPPED,
]);
const JOB_POLL_MS = 500;

/**
 * Runs one service command against the services `connection` names, closing its clients after:
 * a failure prints its status and field paths to `err` and ends with the matching exit code.
 */
export async function runServiceCommand(
  command: ApiCommand,
  json: boolean,
  options: Omit<ApiContext, 'clients'> & {
    readonly connection: Connection;
    err(text: string): void;
  },
): Promise<number> {
  const clients = connect(options.connection);
  try {
    return await runApiCommand(command, json, { ...options, clients });
  } catch (error) {
    if (options.signal.aborted) throw error;
    const { message, exitCode } = describeFailure(error);
    options.err(message);
    return error instanceof InputError ? EXIT.refused : exitCode;
  } finally {
    clients.close();
  }
}

/** Runs one service command; answers the exit code. Failed calls throw (GrpcCallError). */
export async function runApiCommand(
  command: ApiCommand,
  json: boolean,
  context: ApiContext,
): Promise<number> {
  const { clients, out } = context;
  const print = <D extends DescMessage>(schema: D, message: MessageShape<D>, human: () => string) =>
    out(json ? `${JSON.stringify(toJson(schema, message), null, 2)}\n` : human());
  const segment = async (id: string) => {
    const { segment: found } = await clients.segments.getSegment({ id });
    return found!;
  };

  switch (command.name) {
    case 'segments list': {
      const response = await clients.segments.listSegments({
        ...(command.search ? { search: command.search } : {}),
        tags: command.tags,
        kinds: command.kind
          ? [command.kind === 'list' ? SegmentKind.STATIC_LIST : SegmentKind.DYNAMIC]
          : [],
        page: { pageSize: command.limit },
      });
      print(ListSegmentsResponseSchema, response, () => segmentTable(response.segments));
      return EXIT.ok;
    }
    case 'segments get': {
      const response = await clients.segments.getSegment({ id: command.id });
      print(GetSegmentResponseSchema, response, () => details(response.segment!));
      return EXIT.ok;
    }
    case 'segments create': {
      const rule = command.file
        ? parseRuleFile(await readFile(command.file, 'utf8'), command.file)
        : undefined;
      const response = await clients.segments.createSegment({
        kind: command.list ? SegmentKind.STATIC_LIST : SegmentKind.DYNAMIC,
        draft: command.draft,
        segment: { ...draftOf(command), ...(rule ? { rule } : {}) },
      });
      print(CreateSegmentResponseSchema, response, () => details(response.segment!));
      return EXIT.ok;
    }
    case 'segments edit': {
      const current = await segment(command.id);
      const rule = command.file
        ? parseRuleFile(await readFile(command.file, 'utf8'), command.file)
        : undefined;
      const draft = { ...draftOf(command), ...(rule ? { rule } : {}) };
      const response = await clients.segments.updateSegment({
        id: command.id,
        expectedVersion: current.version,
        segment: draft,
        updateMask: { paths: maskOf(command, rule !== undefined) },
      });
      print(UpdateSegmentResponseSchema, response, () => details(response.segment!));
      return EXIT.ok;
    }
    case 'segments rename': {
      const current = await segment(command.id);
      const response = await clients.segments.renameSegment({
        id: command.id,
        expectedVersion: current.version,
        name: command.newName,
      });
      print(RenameSegmentResponseSchema, response, () => details(response.segment!));
      return EXIT.ok;
    }
    case 'segments duplicate': {
      const response = await clients.segments.duplicateSegment({
        id: command.id,
        ...(command.newName ? { name: command.newName } : {}),
      });
      print(DuplicateSegmentResponseSchema, response, () => details(response.segment!));
      return EXIT.ok;
    }
    case 'segments delete': {
      const current = await segment(command.id);
      const response = await clients.segments.deleteSegment({
        id: command.id,
        expectedVersion: current.version,
        force: command.force,
      });
      print(DeleteSegmentResponseSchema, response, () => {
        const used = response.usages.map((u) => u.name || u.id || '(hidden)');
        return `deleted ${command.id}${used.length > 0 ? ` (it was used by ${used.join(', ')})` : ''}\n`;
      });
      return EXIT.ok;
    }
    case 'segments activate':
    case 'segments deactivate': {
      const current = await segment(command.id);
      const request = { id: command.id, expectedVersion: current.version };
      if (command.name === 'segments activate') {
        const response = await clients.segments.activateSegment(request);
        print(ActivateSegmentResponseSchema, response, () => details(response.segment!));
      } else {
        const response = await clients.segments.deactivateSegment(request);
        print(DeactivateSegmentResponseSchema, response, () => details(response.segment!));
      }
      return EXIT.ok;
    }
    case 'segments history': {
      const response = await clients.segments.getSegmentHistory({
        id: command.id,
        page: { pageSize: command.limit },
      });
      print(GetSegmentHistoryResponseSchema, response, () =>
        formatTable([
          ['VERSION', 'ACTION', 'BY', 'AT', 'CHANGED'],
          ...response.changes.map((c) => [
            String(c.version),
            enumName(ChangeAction, c.action, 'CHANGE_ACTION_'),
            c.changedBy,
            formatTime(c.changedAt),
            [
              ...c.fields.map((f) => f.field),
              ...c.ruleDiff.map((d) => `rule ${d.path}`),
              ...(c.revertedTo > 0n ? [`reverted to v${c.revertedTo}`] : []),
            ].join(', '),
          ]),
        ]),
      );
      return EXIT.ok;
    }
    case 'segments revert': {
      const current = await segment(command.id);
      const response = await clients.segments.revertSegment({
        id: command.id,
        expectedVersion: current.version,
        toVersion: BigInt(command.toVersion),
      });
      print(RevertSegmentResponseSchema, response, () => details(response.segment!));
      return EXIT.ok;
    }
    case 'lists add': {
      const { added } = await clients.segments.addListMembers({
        listId: command.listId,
        memberIds: command.memberIds,
      });
      out(json ? `${JSON.stringify({ added })}\n` : `added ${added} to ${command.listId}\n`);
      return EXIT.ok;
    }
    case 'lists remove': {
      const { removed } = await clients.segments.removeListMembers({
        listId: command.listId,
        memberIds: command.memberIds,
      });
      out(
        json ? `${JSON.stringify({ removed })}\n` : `removed ${removed} from ${command.listId}\n`,
      );
      return EXIT.ok;
    }
    case 'lists members': {
      const ids: string[] = [];
      let pageToken = '';
      do {
        const page = await clients.segments.listListMembers({
          listId: command.listId,
          page: { pageSize: Math.min(1_000, command.limit - ids.length), pageToken },
        });
        ids.push(...page.memberIds);
        pageToken = page.nextPageToken;
      } while (pageToken && ids.length < command.limit);
      out(json ? `${JSON.stringify({ memberIds: ids }, null, 2)}\n` : lines(ids));
      return EXIT.ok;
    }
    case 'lists import': {
      const ids = parseIdsCsv(await readFile(command.file, 'utf8'));
      let added = 0;
      for (let at = 0; at < ids.length; at += command.batchSize) {
        context.signal.throwIfAborted();
        const batch = ids.slice(at, at + command.batchSize);
        added += (
          await clients.segments.addListMembers({ listId: command.listId, memberIds: batch })
        ).added;
        context.progress.update(progressLine(at + batch.length, ids.length, 'ids'));
      }
      context.progress.done(progressLine(ids.length, ids.length, 'ids'));
      out(
        json
          ? `${JSON.stringify({ read: ids.length, added })}\n`
          : `read ${ids.length} ids from ${command.file}; ${added} were new on ${command.listId}\n`,
      );
      return EXIT.ok;
    }
    case 'members count': {
      const response = await clients.membership.countMembers({ segmentIds: command.segmentIds });
      print(CountMembersResponseSchema, response, () =>
        formatTable([
          ['SEGMENT', 'MEMBERS', 'STATE', 'COMPLETE'],
          ...response.counts.map((c) => [
            c.segmentId,
            String(c.memberCount),
            enumName(SegmentState, c.state, 'SEGMENT_STATE_'),
            c.complete ? 'yes' : 'no',
          ]),
        ]),
      );
      return EXIT.ok;
    }
    case 'members list': {
      const ids: string[] = [];
      for await (const page of clients.membership.listMembers(
        { segmentId: command.segmentId, limit: BigInt(command.limit) },
        { signal: context.signal, deadlineMs: 0 },
      )) {
        ids.push(...page.profileIds);
      }
      out(json ? `${JSON.stringify({ profileIds: ids }, null, 2)}\n` : lines(ids));
      return EXIT.ok;
    }
    case 'members is-member': {
      const response = await clients.membership.isMember({
        profileId: command.profileId,
        segmentIds: command.segmentIds,
      });
      print(IsMemberResponseSchema, response, () =>
        formatTable([
          ['SEGMENT', 'MEMBER', 'SINCE'],
          ...response.memberships.map((m) => [
            m.segmentId,
            m.member ? 'yes' : 'no',
            m.member ? formatTime(m.since) : '-',
          ]),
        ]),
      );
      // a scripts' yes or no, as `grep -q` answers: any other failure has its own code
      return response.memberships.every((m) => m.member) ? EXIT.ok : EXIT.notAMember;
    }
    case 'members explain': {
      const response = await clients.membership.explain({
        profileId: command.profileId,
        segmentId: command.segmentId,
      });
      print(ExplainResponseSchema, response, () =>
        [
          `${command.profileId} is ${response.membership?.member ? '' : 'not '}a member of ${command.segmentId} (v${response.segmentVersion})`,
          ...explanationLines(response.explanation?.condition),
          ...response.notes.map((n) => `note: ${n}`),
        ]
          .join('\n')
          .concat('\n'),
      );
      return EXIT.ok;
    }
    case 'members preview': {
      const rule = parseRuleFile(await readFile(command.file, 'utf8'), command.file);
      const response = await clients.membership.preview({ rule, sampleSize: command.sample });
      print(PreviewResponseSchema, response, () =>
        [
          `${response.exact ? '' : 'about '}${response.estimatedCount} members` +
            ` (${response.profilesEvaluated} profiles evaluated in ${response.partitionsEvaluated}/${response.partitionCount} partitions)`,
          ...response.sampleProfileIds.map((id) => `  ${id}`),
          ...response.notes.map((n) => `note: ${n}`),
        ]
          .join('\n')
          .concat('\n'),
      );
      return EXIT.ok;
    }
    case 'members export':
      return exportCsv(command, context);
    case 'jobs refresh': {
      const response = await clients.scheduler.refreshNow({ segmentIds: command.segmentIds });
      if (!command.wait) {
        print(RefreshNowResponseSchema, response, () => jobTable(response.jobs));
        return EXIT.ok;
      }
      const jobs = await followJobs(response.jobs, context);
      out(json ? `${JSON.stringify({ jobs: jobs.map(jobJson) }, null, 2)}\n` : jobTable(jobs));
      return jobs.every((j) => j.status === JobStatus.SUCCEEDED || j.status === JobStatus.SKIPPED)
        ? EXIT.ok
        : EXIT.failure;
    }
    case 'jobs list': {
      const response = await clients.scheduler.listJobs({
        ...(command.segmentId ? { segmentId: command.segmentId } : {}),
        page: { pageSize: command.limit },
      });
      print(ListJobsResponseSchema, response, () => jobTable(response.jobs));
      return EXIT.ok;
    }
    case 'jobs cancel': {
      const response = await clients.scheduler.cancelJob({ jobId: command.jobId });
      print(CancelJobResponseSchema, response, () => jobTable([response.job!]));
      return EXIT.ok;
    }
    case 'destinations list': {
      const response = await clients.exporter.listDestinations({});
      print(ListDestinationsResponseSchema, response, () =>
        destinationTable(response.destinations),
      );
      return EXIT.ok;
    }
    case 'destinations get': {
      const response = await clients.exporter.getDestination({ destinationId: command.id });
      print(GetDestinationResponseSchema, response, () =>
        destinationTable([response.destination!]),
      );
      return EXIT.ok;
    }
    case 'destinations create': {
      const response = await clients.exporter.createDestination({
        name: command.destinationName,
        config: await destinationConfig(command.target),
      });
      print(CreateDestinationResponseSchema, response, () =>
        destinationTable([response.destination!]),
      );
      return EXIT.ok;
    }
    case 'destinations link': {
      const response = await clients.exporter.linkSegment({
        destinationId: command.id,
        segmentId: command.segmentId,
        mode: command.mode === 'full' ? SyncMode.FULL : SyncMode.INCREMENTAL,
        autoSync: command.autoSync,
      });
      print(LinkSegmentResponseSchema, response, () => destinationTable([response.destination!]));
      return EXIT.ok;
    }
    case 'destinations sync': {
      const response = await clients.exporter.syncNow({
        destinationId: command.id,
        segmentId: command.segmentId,
      });
      print(
        SyncNowResponseSchema,
        response,
        () => `sync run ${response.run?.id}: ${response.run?.records ?? 0} records\n`,
      );
      return EXIT.ok;
    }
    case 'destinations dead-letters': {
      const response = await clients.exporter.listDeadLetters({
        destinationId: command.id,
        limit: command.limit,
      });
      print(ListDeadLettersResponseSchema, response, () => deadLetterTable(response.deadLetters));
      return EXIT.ok;
    }
    case 'destinations redeliver': {
      const answer = await redeliver(command, context);
      print(RedeliverDeadLettersResponseSchema, answer, () => redeliveryLines(answer));
      if (answer.notFoundIds.length > 0) return EXIT.notFound;
      return answer.skipped.length > 0 ? EXIT.refused : EXIT.ok;
    }
    case 'events tail':
      return tailEvents(command, json, context);
    case 'ingest':
      return ingest(command, json, context);
  }
}

/**
 * The named dead letters sent again, or with `--all` every one that can be, call after call
 * (each is bounded) until none is left or a call queues none; the answers summed up.
 */
async function redeliver(
  command: Extract<ApiCommand, { name: 'destinations redeliver' }>,
  { clients, progress, signal }: ApiContext,
) {
  const total = create(RedeliverDeadLettersResponseSchema);
  const skipped = new Map<string, string>();
  for (;;) {
    const answer = await clients.exporter.redeliverDeadLetters({
      destinationId: command.id,
      deadLetterIds: command.deadLetterIds,
    });
    total.redelivered += answer.redelivered;
    total.records += answer.records;
    total.notFoundIds.push(...answer.notFoundIds);
    for (const { deadLetterId, reason } of answer.skipped) skipped.set(deadLetterId, reason);
    total.remaining = answer.remaining;
    if (!command.all || answer.remaining === 0n || answer.redelivered === 0 || signal.aborted)
      break;
    progress.update(`${total.redelivered} dead letters queued again, ${answer.remaining} left`);
  }
  if (command.all) progress.done(`${total.redelivered} dead letters queued again`);
  total.skipped = [...skipped].map(([deadLetterId, reason]) =>
    create(SkippedDeadLetterSchema, { deadLetterId, reason }),
  );
  return total;
}

function details(segment: Segment): string {
  return segmentDetails(segment, segment.rule ? toJson(RuleSchema, segment.rule) : undefined);
}

function lines(items: readonly string[]): string {
  return items.map((item) => `${item}\n`).join('');
}

function draftOf(fields: Partial<SegmentFields>): MessageInitShape<typeof SegmentDraftSchema> {
  const refreshMode = {
    realtime: RefreshMode.REALTIME,
    scheduled: RefreshMode.SCHEDULED,
    manual: RefreshMode.MANUAL,
  };
  return {
    ...(fields.segmentName !== undefined ? { name: fields.segmentName } : {}),
    ...(fields.description !== undefined ? { description: fields.description } : {}),
    ...(fields.tags !== undefined ? { tags: fields.tags } : {}),
    ...(fields.refresh !== undefined
      ? {
          refresh: {
            mode: refreshMode[fields.refresh],
            cron: fields.cron ?? '',
          },
        }
      : {}),
    ...(fields.shared !== undefined
      ? { visibility: fields.shared ? Visibility.SHARED : Visibility.PRIVATE }
      : {}),
  };
}

/** The update mask of an edit: exactly the fields given. */
export function maskOf(fields: Partial<SegmentFields>, rule: boolean): string[] {
  return [
    ...(fields.segmentName !== undefined ? ['name'] : []),
    ...(fields.description !== undefined ? ['description'] : []),
    ...(fields.tags !== undefined ? ['tags'] : []),
    ...(fields.refresh !== undefined ? ['refresh'] : []),
    ...(fields.shared !== undefined ? ['visibility'] : []),
    ...(rule ? ['rule'] : []),
  ];
}

async function destinationConfig(target: DestinationTarget) {
  switch (target.kind) {
    case 'webhook':
      return {
        kind: {
          case: 'webhook' as const,
          value: { url: target.url, signingSecret: await readSecret(target.signingSecretFile) },
        },
      };
    case 'kafka':
      return {
        kind: {
          case: 'kafkaTopic' as const,
          value: {
            topic: target.topic,
            brokers: target.brokers,
            tls: target.tls,
            ...(target.sasl && {
              saslMechanism: target.sasl.mechanism,
              saslUsername: target.sasl.username,
              saslPassword: await readSecret(target.sasl.passwordFile),
            }),
          },
        },
      };
    case 'file':
      return { kind: { case: 'file' as const, value: { directory: target.directory } } };
  }
}

/** A secret from its file, or standard input for `-`; one trailing line break is not part of it. */
async function readSecret(file: string): Promise<string> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the secret from ${file}: ${(error as Error).message}`);
  }
  return text.replace(/\r?\n$/, '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function exportCsv(
  command: Extract<ApiCommand, { name: 'members export' }>,
  context: ApiContext,
): Promise<number> {
  const { memberCount } = (
    await context.clients.membership.countMembers({ segmentIds: [command.segmentId] })
  ).counts[0] ?? { memberCount: 0n };
  const target = command.output ? createWriteStream(command.output) : process.stdout;
  let rows = 0;
  for await (const chunk of context.clients.exporter.exportCsv(
    {
      segmentId: command.segmentId,
      columns: [
        { kind: CsvColumnKind.PROFILE_ID },
        { kind: CsvColumnKind.USER_ID },
        ...command.traits.map((trait) => ({ kind: CsvColumnKind.TRAIT, trait })),
      ],
    },
    { signal: context.signal, deadlineMs: 0 },
  )) {
    if (!target.write(chunk.data)) await once(target, 'drain');
    rows += Number(chunk.rows);
    context.progress.update(progressLine(rows, Number(memberCount), 'rows'));
  }
  context.progress.done(progressLine(rows, Number(memberCount) || rows, 'rows'));
  if (command.output) {
    target.end();
    await once(target, 'finish');
  }
  return EXIT.ok;
}

async function followJobs(jobs: RefreshJob[], context: ApiContext): Promise<RefreshJob[]> {
  let current = jobs;
  for (;;) {
    const processed = current.reduce((sum, j) => sum + Number(j.processed), 0);
    const total = current.reduce((sum, j) => sum + Number(j.total), 0);
    const finished = current.filter((j) => TERMINAL_JOB.has(j.status)).length;
    if (finished === current.length) {
      context.progress.done(progressLine(processed, total || undefined, 'profiles'));
      return current;
    }
    context.progress.update(
      `${progressLine(processed, total || undefined, 'profiles')}  (${finished}/${current.length} jobs done)`,
    );
    await sleep(JOB_POLL_MS, context.signal);
    current = await Promise.all(
      current.map(
        async (j) =>
          (await context.clients.scheduler.getJob({ jobId: j.id })).job ?? (j as RefreshJob),
      ),
    );
  }
}

function jobJson(job: RefreshJob) {
  return {
    id: job.id,
    segmentId: job.segmentId,
    status: enumName(JobStatus, job.status, 'JOB_STATUS_'),
    processed: Number(job.processed),
    total: Number(job.total),
    entered: Number(job.entered),
    exited: Number(job.exited),
    error: job.error,
  };
}

async function tailEvents(
  command: Extract<ApiCommand, { name: 'events tail' }>,
  json: boolean,
  context: ApiContext,
): Promise<number> {
  const topic = new TopicNames(context.topicPrefix).of(membershipChangesTopic);
  const kafka = new Kafka({
    clientId: 'shoal-cli',
    brokers: [...context.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  // a group of its own each time: tailing must not take records from anyone else's group
  const consumer = kafka.consumer({ groupId: `shoal-cli-tail-${process.pid}-${Date.now()}` });
  let seen = 0;
  const finished = new Promise<void>((resolve) => {
    const stop = () => resolve();
    context.signal.addEventListener('abort', stop, { once: true });
    void (async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: command.fromBeginning });
      context.progress.done(`following ${topic} (Ctrl-C stops)`);
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (!message.value || (command.limit && seen >= command.limit)) return;
          const transition = fromBinary(MembershipTransitionSchema, message.value);
          if (command.segmentId && transition.segmentId !== command.segmentId) return;
          seen += 1;
          context.out(
            json
              ? `${JSON.stringify(toJson(MembershipTransitionSchema, transition))}\n`
              : `${transitionLine(transition)}\n`,
          );
          if (command.limit && seen >= command.limit) stop();
        },
      });
    })().catch((error: unknown) => {
      context.progress.done(`shoal: ${(error as Error).message}`);
      resolve();
    });
  });
  await finished;
  await consumer.disconnect();
  return command.limit && seen < command.limit && !context.signal.aborted
    ? EXIT.unavailable
    : EXIT.ok;
}

async function ingest(
  command: Extract<ApiCommand, { name: 'ingest' }>,
  json: boolean,
  context: ApiContext,
): Promise<number> {
  const { events, lines, named } = parseEventsFile(
    await readFile(command.file, 'utf8'),
    command.file,
  );
  // one batch is one Ingest call; more go as batches of one IngestStream call
  const batches: UpstreamEvent[][] = [];
  for (let at = 0; at < events.length; at += command.batchSize) {
    batches.push(events.slice(at, at + command.batchSize));
  }
  let sent = 0;
  async function* stream() {
    for (const batch of batches) {
      context.signal.throwIfAborted();
      yield { events: batch };
      sent += batch.length;
      context.progress.update(progressLine(sent, events.length, 'events'));
    }
  }
  const response =
    batches.length <= 1
      ? await context.clients.profiles.ingest({ events })
      : await context.clients.profiles.ingestStream(stream(), {
          signal: context.signal,
          deadlineMs: 0,
        });
  const accepted = response.accepted;
  const rejected = response.rejected.map((r) => ({
    index: r.index,
    messageId: r.messageId,
    reason: r.reason,
    problems: r.violations.map((v) => `${v.field}: ${v.description}`),
  }));
  context.progress.done(progressLine(events.length, events.length, 'events'));
  if (json) {
    context.out(`${JSON.stringify({ accepted, rejected, messageIdsGiven: named }, null, 2)}\n`);
  } else {
    context.out(`accepted ${accepted} of ${events.length} events\n`);
    if (named > 0) {
      context.out(
        `  ${named} had no messageId and were given one from their line: sending the file again within the dedup window counts none of them twice\n`,
      );
    }
    for (const r of rejected) {
      const id = r.messageId ? ` (${r.messageId})` : '';
      context.out(`  line ${lines[r.index] ?? '?'}${id} rejected: ${r.reason}\n`);
      for (const problem of r.problems) context.out(`    ${problem}\n`);
    }
  }
  return rejected.length > 0 ? EXIT.refused : EXIT.ok;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
