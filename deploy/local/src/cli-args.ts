import type { InfraEndpoints } from './config';
import { LocalInfraError, LocalInfraErrorCode } from './errors';
import { INFRA_COMPONENTS, type InfraComponent } from './layout';
import type { ComponentStatus } from './local-infra';

export type CliCommand =
  | { name: 'provision' | 'up' | 'down' | 'env' | 'help' }
  | { name: 'status'; json: boolean }
  | { name: 'logs'; component: InfraComponent; lines: number };

export const USAGE = `usage: shoal <command>

Local Kafka and MongoDB-compatible store, no Docker (deploy/local).

  provision                    download and cache the jars (Maven), once
  up                           start what is not running, wait until ready
  down                         stop both
  status [--json]              what runs, whether it answers
  logs <kafka|mongo> [--lines N]
                               the end of a log file (default 50 lines)
  env                          KAFKA_BROKERS=... and MONGO_URL=... lines for eval / sourcing

Environment: SHOAL_HOME (default <repo>/.shoal), SHOAL_KAFKA_PORT (19092),
SHOAL_KAFKA_CONTROLLER_PORT (19093), SHOAL_MONGO_PORT (27027).`;

const DEFAULT_LOG_LINES = 50;

function usageError(message: string): LocalInfraError {
  return new LocalInfraError(LocalInfraErrorCode.Usage, `${message} (see 'shoal help')`);
}

export function parseCliArgs(argv: readonly string[]): CliCommand {
  const [name, ...rest] = argv;
  switch (name) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { name: 'help' };
    case 'provision':
    case 'up':
    case 'down':
    case 'env':
      expectNoMore(name, rest);
      return { name };
    case 'status': {
      const json = rest[0] === '--json';
      expectNoMore(name, json ? rest.slice(1) : rest);
      return { name, json };
    }
    case 'logs':
      return parseLogs(rest);
    default:
      throw usageError(`unknown command '${name}'`);
  }
}

function parseLogs(args: readonly string[]): CliCommand {
  const [component, ...options] = args;
  if (!INFRA_COMPONENTS.includes(component as InfraComponent)) {
    throw usageError(`logs needs a component: ${INFRA_COMPONENTS.join(' or ')}`);
  }
  let lines = DEFAULT_LOG_LINES;
  for (let i = 0; i < options.length; i++) {
    const option = options[i];
    const [flag, inline] = option.split('=', 2);
    if (flag !== '--lines') throw usageError(`unknown option '${option}' for logs`);
    const value = inline ?? options[++i];
    lines = Number(value);
    if (!Number.isInteger(lines) || lines < 1) {
      throw usageError(`--lines needs a positive whole number, got '${value ?? ''}'`);
    }
  }
  return { name: 'logs', component: component as InfraComponent, lines };
}

function expectNoMore(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw usageError(`unexpected argument '${rest[0]}' for ${command}`);
}

/** Plain KEY=value lines: fine for eval, `source`, `export $(...)` and dotenv files alike. */
export function formatEnv(endpoints: InfraEndpoints): string {
  return `KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}\nMONGO_URL=${endpoints.mongoUrl}\n`;
}

export function formatStatusTable(statuses: readonly ComponentStatus[]): string {
  const yesNo = (value: boolean) => (value ? 'yes' : 'no');
  const rows = [
    ['COMPONENT', 'RUNNING', 'READY', 'PID', 'ENDPOINT', 'DETAIL'],
    ...statuses.map((status) => [
      status.component,
      yesNo(status.running),
      yesNo(status.ready),
      status.pid === undefined ? '-' : String(status.pid),
      status.endpoint,
      status.detail ?? '',
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
