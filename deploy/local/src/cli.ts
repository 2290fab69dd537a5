/* eslint-disable no-console -- the command-line entry is where output belongs */
import * as fs from 'node:fs';
import { type CliCommand, USAGE, formatEnv, formatStatusTable, parseCliArgs } from './cli-args';
import { LocalInfraError, LocalInfraErrorCode, errorMessage } from './errors';
import { LocalInfra } from './local-infra';
import { tailOf } from './processes';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

async function run(command: CliCommand, signal: AbortSignal): Promise<void> {
  // progress goes to stderr so that `eval "$(shoal env)"` and `status --json` stay parseable
  const infra = new LocalInfra({ log: (line) => console.error(`shoal: ${line}`) });
  switch (command.name) {
    case 'help':
      console.log(USAGE);
      return;
    case 'provision':
      return infra.provision({ signal });
    case 'up': {
      const began = Date.now();
      const { endpoints, started } = await infra.up({ signal });
      const what = started.length > 0 ? `started ${started.join(' and ')}` : 'already running';
      console.error(`shoal: up in ${((Date.now() - began) / 1000).toFixed(1)} s (${what})`);
      process.stdout.write(formatEnv(endpoints));
      return;
    }
    case 'down':
      return infra.down();
    case 'status': {
      const statuses = await infra.status();
      process.stdout.write(
        command.json ? `${JSON.stringify(statuses, null, 2)}\n` : formatStatusTable(statuses),
      );
      return;
    }
    case 'logs': {
      const file = infra.logFile(command.component);
      if (!fs.existsSync(file)) {
        throw new LocalInfraError(
          LocalInfraErrorCode.NotStarted,
          `no ${file} yet: ${command.component} never ran`,
        );
      }
      for (const line of tailOf(file, command.lines)) console.log(line);
      return;
    }
    case 'env':
      process.stdout.write(formatEnv(infra.endpoints));
      return;
  }
}

async function main(): Promise<number> {
  // The servers run in their own process groups, so Ctrl-C reaches only us: stop what this
  // command started, then exit. A second Ctrl-C exits at once.
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    console.error('shoal: interrupted, cleaning up (Ctrl-C again to exit now)');
    interrupt.abort();
    process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
  });
  try {
    await run(parseCliArgs(process.argv.slice(2)), interrupt.signal);
    return 0;
  } catch (error) {
    if (interrupt.signal.aborted) {
      console.error('shoal: interrupted');
      return EXIT_INTERRUPTED;
    }
    if (error instanceof LocalInfraError) {
      console.error(`shoal: ${error.summary}`);
      for (const line of error.details) console.error(`  ${line}`);
      return error.code === LocalInfraErrorCode.Usage ? EXIT_USAGE : EXIT_FAILURE;
    }
    console.error(`shoal: ${errorMessage(error)}`);
    return EXIT_FAILURE;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
