import { type Command, InvalidArgumentError, Option } from 'commander';

/** A call (or a few) to the running services, as `./shoal segments|lists|members|…` asks. */
export type ApiCommand =
  | {
      name: 'segments list';
      search?: string;
      tags: string[];
      kind?: SegmentKindName;
      limit: number;
    }
  | { name: 'segments get'; id: string }
  | ({ name: 'segments create'; file?: string; list: boolean; draft: boolean } & SegmentFields)
  | ({ name: 'segments edit'; id: string; file?: string } & Partial<SegmentFields>)
  | { name: 'segments rename'; id: string; newName: string }
  | { name: 'segments duplicate'; id: string; newName?: string }
  | { name: 'segments delete'; id: string; force: boolean }
  | { name: 'segments activate' | 'segments deactivate'; id: string }
  | { name: 'segments history'; id: string; limit: number }
  | { name: 'segments revert'; id: string; toVersion: number }
  | { name: 'lists add' | 'lists remove'; listId: string; memberIds: string[] }
  | { name: 'lists members'; listId: string; limit: number }
  | { name: 'lists import'; listId: string; file: string; batchSize: number }
  | { name: 'members count'; segmentIds: string[] }
  | { name: 'members list'; segmentId: string; limit: number }
  | { name: 'members is-member'; profileId: string; segmentIds: string[] }
  | { name: 'members explain'; profileId: string; segmentId: string }
  | { name: 'members preview'; file: string; sample: number }
  | { name: 'members export'; segmentId: string; traits: string[]; output?: string }
  | { name: 'jobs refresh'; segmentIds: string[]; wait: boolean }
  | { name: 'jobs list'; segmentId?: string; limit: number }
  | { name: 'jobs cancel'; jobId: string }
  | { name: 'destinations list' }
  | { name: 'destinations get'; id: string }
  | { name: 'destinations create'; destinationName: string; target: DestinationTarget }
  | {
      name: 'destinations link';
      id: string;
      segmentId: string;
      mode: 'full' | 'incremental';
      autoSync: boolean;
    }
  | { name: 'destinations sync'; id: string; segmentId: string }
  | { name: 'destinations dead-letters'; id: string; limit: number }
  | { name: 'destinations redeliver'; id: string; deadLetterIds: string[]; all: boolean }
  | { name: 'events tail'; segmentId?: string; fromBeginning: boolean; limit?: number }
  | { name: 'ingest'; file: string; batchSize: number };

export type SegmentKindName = 'dynamic' | 'list';
export type RefreshModeName = 'realtime' | 'scheduled' | 'manual';

/** The writable fields of a segment the command line sets. */
export interface SegmentFields {
  segmentName?: string;
  description?: string;
  tags?: string[];
  refresh?: RefreshModeName;
  cron?: string;
  shared?: boolean;
}

/**
 * Where a destination sends. Secrets are named by the file holding them (`-`: standard input),
 * never given on the command line, where shell history and the process list would keep them.
 */
export type DestinationTarget =
  | { kind: 'webhook'; url: string; signingSecretFile: string }
  | {
      kind: 'kafka';
      topic: string;
      brokers: string[];
      tls: boolean;
      sasl?: { mechanism: SaslMechanismName; username: string; passwordFile: string };
    }
  | { kind: 'file'; directory: string };

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

/** A combination of options commander cannot check by itself. */
export class UsageError extends Error {}

const DEFAULT_LIMIT = 100;
const DEFAULT_BATCH = 1_000;

/** Adds the service commands to the program; `choose` receives the one asked for. */
export function apiCommands(
  program: Command,
  choose: (command: ApiCommand, json: boolean) => void,
): void {
  const leaf = (parent: Command, name: string, description: string) =>
    parent.command(name).description(description).option('--json', 'print JSON, for scripts');
  const json = (options: { json?: boolean }) => options.json === true;

  const segments = program
    .command('segments')
    .description('segment definitions and static lists (SegmentService)');
  leaf(segments, 'list', 'segments you may see')
    .option('--search <text>', 'in names and descriptions')
    .option('--tag <tag>', 'only with this tag (repeatable)', collect, [])
    .addOption(new Option('--kind <kind>', 'only this kind').choices(['dynamic', 'list']))
    .addOption(limitOption())
    .action(
      (o: {
        search?: string;
        tag: string[];
        kind?: SegmentKindName;
        limit: number;
        json?: boolean;
      }) =>
        choose(
          {
            name: 'segments list',
            tags: o.tag,
            limit: o.limit,
            ...(o.search ? { search: o.search } : {}),
            ...(o.kind ? { kind: o.kind } : {}),
          },
          json(o),
        ),
    );
  leaf(segments, 'get', 'one segment, its rule included')
    .argument('<id>')
    .action((id: string, o) => choose({ name: 'segments get', id }, json(o)));
  segmentFieldOptions(
    leaf(segments, 'create', 'a dynamic segment from a rule file, or a static list (--list)')
      .option('-f, --file <rule.json>', 'the rule, in its JSON form')
      .option('--list', 'a static list instead (no rule)', false)
      .option('--draft', 'save without computing it', false),
  ).action((o: SegmentFieldOptions & { file?: string; list: boolean; draft: boolean }) => {
    if (!o.name) throw new UsageError('--name is required');
    if (!o.list && !o.file) throw new UsageError('-f <rule.json> or --list is required');
    if (o.list && o.file) throw new UsageError('a static list has no rule file');
    choose(
      {
        name: 'segments create',
        list: o.list,
        draft: o.draft,
        ...(o.file ? { file: o.file } : {}),
        ...segmentFields(o),
      },
      json(o),
    );
  });
  segmentFieldOptions(
    leaf(segments, 'edit', 'change the rule or other fields (only those given)')
      .argument('<id>')
      .option('-f, --file <rule.json>', 'the new rule'),
  ).action((id: string, o: SegmentFieldOptions & { file?: string }) => {
    const fields = segmentFields(o);
    if (!o.file && Object.keys(fields).length === 0) {
      throw new UsageError('nothing to change: give -f or a field option');
    }
    choose({ name: 'segments edit', id, ...(o.file ? { file: o.file } : {}), ...fields }, json(o));
  });
  leaf(segments, 'rename', 'give a segment a new name (owner only)')
    .argument('<id>')
    .argument('<name>')
    .action((id: string, newName: string, o) =>
      choose({ name: 'segments rename', id, newName }, json(o)),
    );
  leaf(segments, 'duplicate', 'copy a segment into a new private one')
    .argument('<id>')
    .option('--name <name>', 'the copy’s name')
    .action((id: string, o: { name?: string; json?: boolean }) =>
      choose({ name: 'segments duplicate', id, ...(o.name ? { newName: o.name } : {}) }, json(o)),
    );
  leaf(segments, 'delete', 'delete a segment; refused while something uses it unless --force')
    .argument('<id>')
    .option('--force', 'delete even though other segments or destinations use it', false)
    .action((id: string, o: { force: boolean; json?: boolean }) =>
      choose({ name: 'segments delete', id, force: o.force }, json(o)),
    );
  for (const verb of ['activate', 'deactivate'] as const) {
    leaf(segments, verb, `${verb} a segment`)
      .argument('<id>')
      .action((id: string, o) => choose({ name: `segments ${verb}`, id }, json(o)));
  }
  leaf(segments, 'history', 'the recorded changes, newest first')
    .argument('<id>')
    .addOption(limitOption())
    .action((id: string, o: { limit: number; json?: boolean }) =>
      choose({ name: 'segments history', id, limit: o.limit }, json(o)),
    );
  leaf(segments, 'revert', 'make a new version equal to an earlier one')
    .argument('<id>')
    .argument('<version>', 'the version to restore', positiveWholeNumber)
    .action((id: string, toVersion: number, o) =>
      choose({ name: 'segments revert', id, toVersion }, json(o)),
    );

  const lists = program.command('lists').description('members of static lists');
  for (const verb of ['add', 'remove'] as const) {
    leaf(lists, verb, `${verb} members (profile ids), all or none`)
      .argument('<list-id>')
      .argument('<member-ids...>')
      .action((listId: string, memberIds: string[], o) =>
        choose({ name: `lists ${verb}`, listId, memberIds }, json(o)),
      );
  }
  leaf(lists, 'members', 'a list’s members in id order')
    .argument('<list-id>')
    .addOption(limitOption())
    .action((listId: string, o: { limit: number; json?: boolean }) =>
      choose({ name: 'lists members', listId, limit: o.limit }, json(o)),
    );
  leaf(lists, 'import', 'add the ids of a CSV file (first column; a header row is skipped)')
    .argument('<list-id>')
    .argument('<ids.csv>')
    .addOption(batchOption())
    .action((listId: string, file: string, o: { batch: number; json?: boolean }) =>
      choose({ name: 'lists import', listId, file, batchSize: o.batch }, json(o)),
    );

  const members = program.command('members').description('who is in a segment (MembershipService)');
  leaf(members, 'count', 'member counts')
    .argument('<segment-ids...>')
    .action((segmentIds: string[], o) => choose({ name: 'members count', segmentIds }, json(o)));
  leaf(members, 'list', 'profile ids of the members')
    .argument('<segment-id>')
    .addOption(limitOption())
    .action((segmentId: string, o: { limit: number; json?: boolean }) =>
      choose({ name: 'members list', segmentId, limit: o.limit }, json(o)),
    );
  leaf(members, 'is-member', 'whether a profile is in each segment')
    .argument('<profile-id>')
    .argument('<segment-ids...>')
    .addHelpText(
      'after',
      '\nExits 0 when the profile is a member of every segment named, 1 when it is not a member\n' +
        'of one of them (the table or --json says which); other failures keep their exit codes.',
    )
    .action((profileId: string, segmentIds: string[], o) =>
      choose({ name: 'members is-member', profileId, segmentIds }, json(o)),
    );
  leaf(members, 'explain', 'why a profile is or is not a member, condition by condition')
    .argument('<profile-id>')
    .argument('<segment-id>')
    .action((profileId: string, segmentId: string, o) =>
      choose({ name: 'members explain', profileId, segmentId }, json(o)),
    );
  leaf(members, 'preview', 'estimated size and first members of an unsaved rule')
    .requiredOption('-f, --file <rule.json>', 'the rule, in its JSON form')
    .option('--sample <n>', 'how many members to show', positiveWholeNumber, 10)
    .action((o: { file: string; sample: number; json?: boolean }) =>
      choose({ name: 'members preview', file: o.file, sample: o.sample }, json(o)),
    );
  members
    .command('export')
    .description('the members as CSV (ExportService), progress on stderr')
    .argument('<segment-id>')
    .requiredOption('--csv', 'CSV is the export format (required, for clarity)')
    .option('--trait <name>', 'add a trait column (repeatable)', collect, [])
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((segmentId: string, o: { trait: string[]; output?: string }) =>
      choose(
        {
          name: 'members export',
          segmentId,
          traits: o.trait,
          ...(o.output ? { output: o.output } : {}),
        },
        false,
      ),
    );

  const jobs = program.command('jobs').description('refresh jobs (SchedulerService)');
  leaf(jobs, 'refresh', 'refresh segments now')
    .argument('<segment-ids...>')
    .option('--wait', 'follow the jobs until they end, with progress', false)
    .action((segmentIds: string[], o: { wait: boolean; json?: boolean }) =>
      choose({ name: 'jobs refresh', segmentIds, wait: o.wait }, json(o)),
    );
  leaf(jobs, 'list', 'jobs, newest first')
    .option('--segment <id>', 'only this segment’s')
    .addOption(limitOption())
    .action((o: { segment?: string; limit: number; json?: boolean }) =>
      choose(
        { name: 'jobs list', limit: o.limit, ...(o.segment ? { segmentId: o.segment } : {}) },
        json(o),
      ),
    );
  leaf(jobs, 'cancel', 'stop a queued or running job')
    .argument('<job-id>')
    .action((jobId: string, o) => choose({ name: 'jobs cancel', jobId }, json(o)));

  const destinations = program
    .command('destinations')
    .description('where members are synced (ExportService)');
  leaf(destinations, 'list', 'your destinations').action((o) =>
    choose({ name: 'destinations list' }, json(o)),
  );
  leaf(destinations, 'get', 'one destination with its linked segments')
    .argument('<id>')
    .action((id: string, o) => choose({ name: 'destinations get', id }, json(o)));
  leaf(destinations, 'create', 'a webhook, Kafka topic or file destination')
    .requiredOption('--name <name>', 'its name')
    .option('--webhook <url>', 'POST batches of transitions to this URL')
    .option(
      '--signing-secret-file <file>',
      'with --webhook: the file holding the secret requests are signed with (at least 16 characters; - reads standard input)',
    )
    .option('--kafka-topic <topic>', 'produce to this topic')
    .option('--brokers <a,b>', 'the Kafka topic’s brokers', commaList, [])
    .option('--tls', 'with --kafka-topic: connect over TLS', false)
    .addOption(
      new Option('--sasl <mechanism>', 'with --kafka-topic: authenticate').choices(SASL_MECHANISMS),
    )
    .option('--sasl-username <name>', 'with --sasl: the user name')
    .option(
      '--sasl-password-file <file>',
      'with --sasl: the file holding the password (- reads standard input)',
    )
    .option('--directory <dir>', 'write files into this directory')
    .action(
      (o: {
        name: string;
        webhook?: string;
        signingSecretFile?: string;
        kafkaTopic?: string;
        brokers: string[];
        tls: boolean;
        sasl?: SaslMechanismName;
        saslUsername?: string;
        saslPasswordFile?: string;
        directory?: string;
        json?: boolean;
      }) => {
        const targets: DestinationTarget[] = [
          ...(o.webhook ? [webhookTarget(o.webhook, o.signingSecretFile)] : []),
          ...(o.kafkaTopic ? [kafkaTarget(o.kafkaTopic, o)] : []),
          ...(o.directory ? [{ kind: 'file' as const, directory: o.directory }] : []),
        ];
        if (targets.length !== 1) {
          throw new UsageError('give exactly one of --webhook, --kafka-topic, --directory');
        }
        if (o.signingSecretFile !== undefined && !o.webhook) {
          throw new UsageError('--signing-secret-file goes with --webhook');
        }
        if ((o.tls || o.sasl || o.saslUsername || o.saslPasswordFile) && !o.kafkaTopic) {
          throw new UsageError('--tls and --sasl* go with --kafka-topic');
        }
        choose(
          { name: 'destinations create', destinationName: o.name, target: targets[0] },
          json(o),
        );
      },
    );
  leaf(destinations, 'link', 'sync a segment to a destination')
    .argument('<destination-id>')
    .argument('<segment-id>')
    .addOption(
      new Option('--mode <mode>', 'what is sent')
        .choices(['full', 'incremental'])
        .default('incremental'),
    )
    .option('--auto-sync', 'sync every change as it happens (locks the segment)', false)
    .action(
      (
        id: string,
        segmentId: string,
        o: { mode: 'full' | 'incremental'; autoSync: boolean; json?: boolean },
      ) =>
        choose(
          { name: 'destinations link', id, segmentId, mode: o.mode, autoSync: o.autoSync },
          json(o),
        ),
    );
  leaf(destinations, 'sync', 'sync a linked segment now')
    .argument('<destination-id>')
    .argument('<segment-id>')
    .action((id: string, segmentId: string, o) =>
      choose({ name: 'destinations sync', id, segmentId }, json(o)),
    );
  leaf(destinations, 'dead-letters', 'batches the destination gave up on, newest first')
    .argument('<destination-id>')
    .addOption(limitOption())
    .action((id: string, o: { limit: number; json?: boolean }) =>
      choose({ name: 'destinations dead-letters', id, limit: o.limit }, json(o)),
    );
  leaf(destinations, 'redeliver', 'send dead letters again (after fixing the receiver)')
    .argument('<destination-id>')
    .argument('[dead-letter-ids...]', 'the dead letters to send again')
    .option('--all', 'every dead letter that can be sent again, 100 per call until none is left')
    .addHelpText(
      'after',
      '\nExits 0 when every dead letter was queued again, 3 when a named one is not a dead\n' +
        'letter of the destination (never was, or already sent again), 4 when one was skipped\n' +
        '(e.g. its segment is no longer linked; the reason is printed).',
    )
    .action((id: string, deadLetterIds: string[], o: { all?: boolean; json?: boolean }) => {
      const all = o.all === true;
      if (all ? deadLetterIds.length > 0 : deadLetterIds.length === 0) {
        throw new UsageError('give dead letter ids or --all (one of them)');
      }
      choose({ name: 'destinations redeliver', id, deadLetterIds, all }, json(o));
    });

  const events = program.command('events').description('segment entered / exited events');
  leaf(events, 'tail', 'follow entered / exited from shoal.membership.changes (Ctrl-C stops)')
    .option('--segment <id>', 'only this segment’s')
    .option('--from-beginning', 'start at the oldest retained event, not now', false)
    .option('--limit <n>', 'stop after this many events', positiveWholeNumber)
    .action((o: { segment?: string; fromBeginning: boolean; limit?: number; json?: boolean }) =>
      choose(
        {
          name: 'events tail',
          fromBeginning: o.fromBeginning,
          ...(o.segment ? { segmentId: o.segment } : {}),
          ...(o.limit ? { limit: o.limit } : {}),
        },
        json(o),
      ),
    );

  leaf(program, 'ingest', 'send events to ProfileService.Ingest (Segment-spec or protobuf JSON)')
    .requiredOption('-f, --file <events.ndjson>', 'one event per line')
    .addOption(batchOption())
    .action((o: { file: string; batch: number; json?: boolean }) =>
      choose({ name: 'ingest', file: o.file, batchSize: o.batch }, json(o)),
    );
}

interface SegmentFieldOptions {
  name?: string;
  description?: string;
  tag?: string[];
  refresh?: RefreshModeName;
  cron?: string;
  shared?: boolean;
  json?: boolean;
}

function segmentFieldOptions(command: Command): Command {
  return command
    .option('--name <name>', 'its name')
    .option('--description <text>', 'what it is for')
    .option('--tag <tag>', 'a tag (repeatable; replaces the tags)', collect)
    .addOption(
      new Option('--refresh <mode>', 'how it stays current').choices([
        'realtime',
        'scheduled',
        'manual',
      ]),
    )
    .option('--cron <expression>', 'with --refresh scheduled: e.g. "0 */4 * * *"')
    .option('--shared', 'visible to everyone (destinations sync only shared segments)');
}

function segmentFields(o: SegmentFieldOptions): SegmentFields {
  if (o.cron && o.refresh !== 'scheduled') {
    throw new UsageError('--cron goes with --refresh scheduled');
  }
  return {
    ...(o.name !== undefined ? { segmentName: o.name } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.tag !== undefined ? { tags: o.tag } : {}),
    ...(o.refresh !== undefined ? { refresh: o.refresh } : {}),
    ...(o.cron !== undefined ? { cron: o.cron } : {}),
    ...(o.shared !== undefined ? { shared: o.shared } : {}),
  };
}

function limitOption(): Option {
  return new Option('--limit <n>', 'at most this many')
    .argParser(positiveWholeNumber)
    .default(DEFAULT_LIMIT);
}

function batchOption(): Option {
  return new Option('--batch <n>', 'ids or events per call')
    .argParser(positiveWholeNumber)
    .default(DEFAULT_BATCH);
}

function webhookTarget(url: string, signingSecretFile: string | undefined): DestinationTarget {
  if (signingSecretFile === undefined) {
    throw new UsageError(
      'a webhook needs --signing-secret-file <file>: the secret its requests are signed with (X-Shoal-Signature)',
    );
  }
  return { kind: 'webhook', url, signingSecretFile };
}

function kafkaTarget(
  topic: string,
  o: {
    brokers: string[];
    tls: boolean;
    sasl?: SaslMechanismName;
    saslUsername?: string;
    saslPasswordFile?: string;
  },
): DestinationTarget {
  if (!o.sasl) {
    if (o.saslUsername !== undefined || o.saslPasswordFile !== undefined) {
      throw new UsageError('--sasl-username and --sasl-password-file go with --sasl <mechanism>');
    }
    return { kind: 'kafka', topic, brokers: o.brokers, tls: o.tls };
  }
  if (o.saslUsername === undefined || o.saslPasswordFile === undefined) {
    throw new UsageError('--sasl needs --sasl-username and --sasl-password-file');
  }
  return {
    kind: 'kafka',
    topic,
    brokers: o.brokers,
    tls: o.tls,
    sasl: { mechanism: o.sasl, username: o.saslUsername, passwordFile: o.saslPasswordFile },
  };
}

export function positiveWholeNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('It must be a positive whole number.');
  }
  return number;
}

export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
