/* eslint-disable no-console -- the command line is where output belongs */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  LocalInfra,
  LocalInfraError,
  CONSOLE_WEB_PORT,
  LOCAL_SERVICES,
  LocalInfraErrorCode,
  type StartableServiceName,
  tailOf,
} from '@shoal/local-infra';
import { systemClock } from '@shoal/platform';
import { EXIT, type InfraCommand, type ShoalCommand } from './command-line';
import { serviceAddress } from './api/connection';
import { type Progress, runServiceCommand } from './api/run-api-command';
import { type DemoConnection, type DemoOptions, runDemo } from './demo';
import { formatEnv, formatStatusTable } from './infra-output';
import { DEVELOPER_GROUPS, LocalStack } from './local-stack';
import { ServiceSupervisor } from './service-supervisor';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

const CONSOLE_URL = `http://127.0.0.1:${CONSOLE_WEB_PORT}/`;

const out = (line: string) => console.log(line);
const progress = (line: string) => console.error(`  ${line}`);

/** Runs one command of `./shoal`; answers the exit code. */
export async function runCommand(command: ShoalCommand, signal: AbortSignal): Promise<number> {
  if (command.name === 'infra') {
    await runInfraCommand(command.infra, signal);
    return EXIT.ok;
  }
  if (command.name === 'test') return runTests();
  const stack = new LocalStack(progress);
  if (command.name === 'api') return runApi(command, stack, signal);
  switch (command.name) {
    case 'up':
      out('starting infrastructure (first run downloads Kafka and the store from Maven Central)…');
      await stack.infra.up({ signal });
      out('starting services…');
      await stack.services.up(await stack.serviceEnv(), signal);
      await printStatus(stack);
      out(`\nconsole: ${CONSOLE_URL}  (development sign-in: any user name and groups)`);
      if (command.demo) {
        out('\ndemo:');
        await runDemo(demoConnection(stack), {
          ...demoOptions(command.durationSeconds, signal),
          supervisor: await supervisorOf(stack, signal),
        });
      }
      out('\nnext: ./shoal segments list            the segments (--json for scripts)');
      out('      ./shoal events tail             follow entered / exited as they happen');
      out('      ./shoal members count <id…>     member counts (./shoal --help: every command)');
      out('      ./shoal down                    stop the services and the infrastructure');
      return EXIT.ok;
    case 'down':
      await stack.services.down();
      await stack.infra.down();
      return EXIT.ok;
    case 'status':
      await printStatus(stack);
      return EXIT.ok;
    case 'demo':
      await runDemo(demoConnection(stack), {
        ...demoOptions(command.durationSeconds, signal),
        supervisor: await supervisorOf(stack, signal),
      });
      return EXIT.ok;
    case 'token':
      out(await stack.token(command.subject, command.groups, command.ttlSeconds));
      return EXIT.ok;
    case 'service-token':
      out(await stack.serviceToken(command.service));
      return EXIT.ok;
    case 'logs': {
      const file = isService(command.source)
        ? stack.services.logFile(command.source)
        : stack.infra.logFile(command.source);
      printTail(file, command.source, command.lines);
      return EXIT.ok;
    }
  }
}

/**
 * Restarts, while the demo runs, the broker, the store or a service whose process exited (the
 * containers' restart policy does it under Helm and compose); on a terminal its lines show in
 * the live summary only.
 */
async function supervisorOf(stack: LocalStack, signal: AbortSignal): Promise<ServiceSupervisor> {
  return new ServiceSupervisor({
    services: stack.services,
    infra: stack.infra,
    env: await stack.serviceEnv(),
    clock: systemClock,
    log: process.stdout.isTTY ? () => undefined : out,
    signal,
  });
}

/** Live (redrawn until Ctrl-C) on a terminal; a bounded, printed run in CI and scripts. */
function demoOptions(durationSeconds: number | undefined, signal: AbortSignal): DemoOptions {
  return {
    out,
    live: process.stdout.isTTY === true,
    signal,
    ...(durationSeconds ? { durationMs: durationSeconds * 1_000 } : {}),
  };
}

/** The demo acts as SHOAL_USER (default developer), so `./shoal segments …` can change what it made. */
function demoConnection(stack: LocalStack): DemoConnection {
  const env = process.env;
  const user = env.SHOAL_USER || 'developer';
  return {
    user,
    address: (service) => serviceAddress(service, env),
    token: () => stack.token(user, DEVELOPER_GROUPS, 3_600),
    kafkaBrokers: stack.infra.endpoints.kafkaBrokers,
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
  };
}

/**
 * `./shoal segments|lists|members|jobs|destinations|events|ingest`: calls to the running
 * services with SHOAL_TOKEN, or else a development token (subject SHOAL_USER, default
 * developer). Failures print their status and field paths and end with the matching code.
 */
async function runApi(
  command: Extract<ShoalCommand, { name: 'api' }>,
  stack: LocalStack,
  signal: AbortSignal,
): Promise<number> {
  const env = process.env;
  const kafkaBrokers = env.KAFKA_BROKERS?.split(',') ?? stack.infra.endpoints.kafkaBrokers;
  const topicPrefix = env.KAFKA_TOPIC_PREFIX ?? '';
  return runServiceCommand(command.api, command.json, {
    connection: {
      address: (service) => serviceAddress(service, env),
      token: async () =>
        env.SHOAL_TOKEN || stack.token(env.SHOAL_USER || 'developer', DEVELOPER_GROUPS, 3_600),
      kafkaBrokers,
      topicPrefix,
    },
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    progress: stderrProgress(),
    kafkaBrokers,
    topicPrefix,
    signal,
  });
}

/** Progress on stderr: one line redrawn on a terminal, else a line at most every 2 seconds. */
function stderrProgress(): Progress {
  const tty = process.stderr.isTTY;
  let last = Date.now();
  return {
    update(line) {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
      } else if (Date.now() - last >= 2_000) {
        last = Date.now();
        process.stderr.write(`${line}\n`);
      }
    },
    done(line) {
      process.stderr.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}

/**
 * `./shoal infra ...`. Progress goes to stderr, so that `eval "$(./shoal infra env)"` and
 * `status --json` stay parseable.
 */
async function runInfraCommand(command: InfraCommand, signal: AbortSignal): Promise<void> {
  const infra = new LocalInfra({ log: (line) => console.error(`shoal: ${line}`) });
  switch (command.name) {
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
    case 'logs':
      printTail(infra.logFile(command.component), command.component, command.lines);
      return;
    case 'env':
      process.stdout.write(formatEnv(infra.endpoints));
      return;
  }
}

async function printStatus(stack: LocalStack): Promise<void> {
  const state = (s: { ready: boolean; running: boolean; alive?: boolean }) =>
    (s.ready
      ? 'ready'
      : s.alive === false && s.running
        ? 'unhealthy'
        : s.running
          ? 'not ready'
          : 'stopped'
    ).padEnd(10);
  for (const s of await stack.infra.status()) {
    out(`  ${s.component.padEnd(11)} ${state(s)} ${s.endpoint}`);
  }
  for (const s of await stack.services.status()) {
    const web = s.name === 'console' ? `  web ${CONSOLE_URL}` : '';
    out(`  ${s.name.padEnd(11)} ${state(s)} gRPC ${s.grpc}  ${s.http}/readyz${web}`);
    if (s.health) out(`              ${s.health}`);
  }
}

function printTail(file: string, source: string, lines: number): void {
  if (!fs.existsSync(file)) {
    throw new LocalInfraError(
      LocalInfraErrorCode.NotStarted,
      `no ${file} yet: ${source} never ran`,
    );
  }
  for (const line of tailOf(file, lines)) out(line);
}

function isService(name: string): name is StartableServiceName {
  return (LOCAL_SERVICES as readonly string[]).includes(name);
}

/** The checks CI runs (`./shoal test` starts them without building first). */
async function runTests(): Promise<number> {
  const child = spawn('bash', [path.join(REPO_ROOT, 'tools', 'scripts', 'test.sh')], {
    stdio: 'inherit',
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? EXIT.failure;
}
