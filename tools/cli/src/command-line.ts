import {
  INFRA_COMPONENTS,
  type InfraComponent,
  LOCAL_SERVICES,
  SHOAL_SERVICES,
  type ShoalServiceName,
  type StartableServiceName,
} from '@shoal/local-infra';
import { Argument, Command, CommanderError, Option } from 'commander';
import {
  type ApiCommand,
  UsageError,
  apiCommands,
  commaList,
  positiveWholeNumber,
} from './api/api-command-line';

/** What `./shoal infra ...` asks for. */
export type InfraCommand =
  | { name: 'provision' | 'up' | 'down' | 'env' }
  | { name: 'status'; json: boolean }
  | { name: 'logs'; component: InfraComponent; lines: number };

export type LogSource = StartableServiceName | InfraComponent;

/** What `./shoal ...` asks for. */
export type ShoalCommand =
  | { name: 'up'; demo: boolean; durationSeconds?: number }
  | { name: 'demo'; durationSeconds?: number }
  | { name: 'down' | 'status' | 'test' }
  | { name: 'token'; subject: string; groups: string[]; ttlSeconds: number }
  | { name: 'service-token'; service: ShoalServiceName }
  | { name: 'logs'; source: LogSource; lines: number }
  | { name: 'infra'; infra: InfraCommand }
  | { name: 'api'; api: ApiCommand; json: boolean };

/**
 * How the program ends: success; a failure; a usage error; what was asked for does not exist;
 * the services refused it (invalid, a failed precondition, a conflict, not allowed); they could
 * not be reached; or interrupted (Ctrl-C). The README lists them.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  /** `members is-member`: the profile is not a member of every segment asked about. */
  notAMember: 1,
  usage: 2,
  notFound: 3,
  refused: 4,
  unavailable: 5,
  interrupted: 130,
} as const;

/** Where help goes (stdout) and where usage errors go (stderr). */
export interface CommandLineOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Either a command to run, or the exit code after help or a usage error was printed. */
export type ParsedCommandLine = { command: ShoalCommand } | { exitCode: number };

const DEFAULT_LOG_LINES = 50;
const DEFAULT_TOKEN_TTL_SECONDS = 3_600;

/** Reads the command line with commander: help, unknown options and missing arguments included. */
export function parseCommandLine(
  argv: readonly string[],
  output: CommandLineOutput,
): ParsedCommandLine {
  let chosen: ShoalCommand | undefined;
  const choose = (command: ShoalCommand) => {
    chosen = command;
  };
  const program = shoalProgram(choose, output);
  try {
    program.parse(argv.length > 0 ? argv : ['--help'], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return { exitCode: error.exitCode === 0 ? EXIT.ok : EXIT.usage };
    }
    if (error instanceof UsageError) {
      output.err(`shoal: ${error.message}\n(add --help for the usage)\n`);
      return { exitCode: EXIT.usage };
    }
    throw error;
  }
  // every command has an action; a bare group (`./shoal infra`) shows its help and ends above
  return chosen ? { command: chosen } : { exitCode: EXIT.usage };
}

function shoalProgram(choose: (command: ShoalCommand) => void, output: CommandLineOutput) {
  const program = new Command('./shoal')
    .description('Shoal on this machine: Kafka, the store and the five services, without Docker.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.out(text),
      writeErr: (text) => output.err(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'shoal: ')),
    })
    .showHelpAfterError('(add --help for the usage)');

  program
    .command('up')
    .description(
      'start Kafka, the store and the five services, then run the live demo (on a terminal until Ctrl-C; otherwise 20 s)',
    )
    .option('--no-demo', 'start everything, without the demo')
    .addOption(durationOption())
    .action(({ demo, duration }: { demo: boolean; duration?: number }) =>
      choose({ name: 'up', demo, ...(duration ? { durationSeconds: duration } : {}) }),
    );
  program
    .command('down')
    .description('stop the services and the infrastructure (data stays in .shoal/data)')
    .action(() => choose({ name: 'down' }));
  program
    .command('status')
    .description('what is running and ready')
    .action(() => choose({ name: 'status' }));
  program
    .command('demo')
    .description('run the live demo again on the running services')
    .addOption(durationOption())
    .action(({ duration }: { duration?: number }) =>
      choose({ name: 'demo', ...(duration ? { durationSeconds: duration } : {}) }),
    );
  program
    .command('token')
    .description('print a development token for gRPC calls')
    .option('--subject <user>', 'the user the token is for', 'developer')
    .option(
      '--groups <a,b>',
      "the user's groups, comma-separated (group profile-readers may read profiles)",
      commaList,
      [],
    )
    .option(
      '--ttl <seconds>',
      'how long the token lives',
      positiveWholeNumber,
      DEFAULT_TOKEN_TTL_SECONDS,
    )
    .addOption(
      new Option('--service <name>', 'a service token (5 minutes) of that service instead')
        .choices(SHOAL_SERVICES)
        .conflicts(['subject', 'groups', 'ttl']),
    )
    .action(
      (options: { subject: string; groups: string[]; ttl: number; service?: ShoalServiceName }) =>
        choose(
          options.service
            ? { name: 'service-token', service: options.service }
            : {
                name: 'token',
                subject: options.subject,
                groups: options.groups,
                ttlSeconds: options.ttl,
              },
        ),
    );
  program
    .command('logs')
    .description('the end of a service, Kafka or store log')
    .addArgument(
      new Argument('<source>', 'whose log').choices([...LOCAL_SERVICES, ...INFRA_COMPONENTS]),
    )
    .addOption(linesOption())
    .action((source: LogSource, { lines }: { lines: number }) =>
      choose({ name: 'logs', source, lines }),
    );
  infraCommands(program.command('infra'), choose);
  apiCommands(program, (api, json) => choose({ name: 'api', api, json }));
  program
    .command('test')
    .description(
      'lint, typecheck, contract drift, unit, integration and end-to-end tests on real infrastructure',
    )
    .action(() => choose({ name: 'test' }));
  return program;
}

function infraCommands(infra: Command, choose: (command: ShoalCommand) => void): void {
  infra
    .description('Kafka and the MongoDB-compatible store alone, without Docker (deploy/local)')
    .addHelpText(
      'after',
      '\nEnvironment: SHOAL_HOME (default <repo>/.shoal), SHOAL_KAFKA_PORT (19092),\n' +
        'SHOAL_KAFKA_CONTROLLER_PORT (19093), SHOAL_MONGO_PORT (27027).',
    );
  const chooseInfra = (command: InfraCommand) => choose({ name: 'infra', infra: command });
  infra
    .command('provision')
    .description('download and cache the jars (Maven), once')
    .action(() => chooseInfra({ name: 'provision' }));
  infra
    .command('up')
    .description('start what is not running, wait until ready, print the env lines')
    .action(() => chooseInfra({ name: 'up' }));
  infra
    .command('down')
    .description('stop both')
    .action(() => chooseInfra({ name: 'down' }));
  infra
    .command('status')
    .description('what runs, whether it answers')
    .option('--json', 'as JSON', false)
    .action(({ json }: { json: boolean }) => chooseInfra({ name: 'status', json }));
  infra
    .command('logs')
    .description('the end of a log file')
    .addArgument(new Argument('<component>', 'whose log').choices(INFRA_COMPONENTS))
    .addOption(linesOption())
    .action((component: InfraComponent, { lines }: { lines: number }) =>
      chooseInfra({ name: 'logs', component, lines }),
    );
  infra
    .command('env')
    .description('KAFKA_BROKERS=... and MONGO_URL=... lines for eval / sourcing')
    .action(() => chooseInfra({ name: 'env' }));
}

function durationOption(): Option {
  return new Option('--duration <seconds>', 'stop the demo feed after this long').argParser(
    positiveWholeNumber,
  );
}

function linesOption(): Option {
  return new Option('--lines <n>', 'how many lines')
    .argParser(positiveWholeNumber)
    .default(DEFAULT_LOG_LINES);
}
