import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitUntil } from '@shoal/platform';
import { LocalInfraError, LocalInfraErrorCode } from './errors';

/** A process we started, for tests that kill and restart a dedicated instance. */
export interface ManagedProcess {
  pid: number;
  endpoint: string;
  /** Sends the signal (default SIGTERM) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A process started by this Node process: its exit is an event, not something to poll for. */
export interface LaunchedProcess extends ManagedProcess {
  /** Resolves once the process has exited, with how it ended ("exit code 1", "SIGKILL"); never rejects. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
}

/**
 * Starts a long-running server in its own process group (so it outlives the CLI and a Ctrl-C in
 * the terminal reaches only us), appending its stdout and stderr to `logFile`.
 */
export function spawnDetached(options: {
  command: string;
  args: string[];
  logFile: string;
  endpoint: string;
  /** The child's environment; ours when not given. */
  env?: NodeJS.ProcessEnv;
}): LaunchedProcess {
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const fd = fs.openSync(options.logFile, 'a');
  const child = (() => {
    try {
      return spawn(options.command, options.args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        ...(options.env ? { env: options.env } : {}),
      });
    } finally {
      fs.closeSync(fd);
    }
  })();
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(signal ?? `exit code ${code}`);
    });
    child.once('error', (error) => {
      done = true;
      resolve(error.message);
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new LocalInfraError(
      LocalInfraErrorCode.StartFailed,
      `could not start '${options.command}'`,
    );
  }
  child.unref();
  return {
    pid,
    endpoint: options.endpoint,
    exited,
    hasExited: () => done,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      // unref'd, the child would not keep us alive until its exit event arrives
      child.ref();
      if (!done) sendSignal(pid, signal);
      await exited;
      child.unref();
    },
  };
}

/** Runs a short command to its end and collects its output. */
export function runToCompletion(
  command: string,
  args: string[],
  signal?: AbortSignal,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

const HAS_PROCFS = fs.existsSync('/proc/self/cmdline');

/**
 * The command line of a live process, or undefined when there is none. Zombies have an empty
 * command line, so a dead child nobody reaped yet counts as gone.
 */
function commandLineOf(pid: number): string | undefined {
  if (!HAS_PROCFS) return processTable().get(pid);
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.length > 0 ? raw.split('\0').join(' ') : undefined;
  } catch {
    return undefined;
  }
}

/** pid → command line from `ps`, for systems without procfs (macOS). */
function processTable(): Map<number, string> {
  const result = spawnSync('ps', ['-axo', 'pid=,args='], { encoding: 'utf8' });
  const table = new Map<number, string>();
  for (const line of (result.stdout ?? '').split('\n')) {
    const match = /^\s*(\d+)\s+(.+)$/.exec(line);
    if (match) table.set(Number(match[1]), match[2]);
  }
  return table;
}

/**
 * A pid file only proves a process existed once; the pid may now belong to anything. A process is
 * ours when its command line still contains what we started it with (main class, config path).
 */
export function isOurProcess(pid: number, markers: readonly string[]): boolean {
  const commandLine = commandLineOf(pid);
  return commandLine !== undefined && markers.every((marker) => commandLine.includes(marker));
}

/** Finds our process without a pid file, e.g. after `.shoal/run` was deleted while it ran. */
export function findOurProcess(markers: readonly string[]): number | undefined {
  const pids = HAS_PROCFS
    ? fs
        .readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
    : [...processTable().keys()];
  return pids.find((pid) => pid !== process.pid && isOurProcess(pid, markers));
}

/** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. */
export async function terminate(
  pid: number,
  markers: readonly string[],
  timeoutMs: number,
): Promise<'stopped' | 'killed'> {
  sendSignal(pid, 'SIGTERM');
  if (await waitUntilGone(pid, markers, timeoutMs)) return 'stopped';
  sendSignal(pid, 'SIGKILL');
  await waitUntilGone(pid, markers, 10_000);
  return 'killed';
}

function waitUntilGone(
  pid: number,
  markers: readonly string[],
  timeoutMs: number,
): Promise<boolean> {
  return waitUntil(() => !isOurProcess(pid, markers), { timeoutMs, intervalMs: 100 });
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePidFile(file: string, pid: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${pid}\n`);
}

export function removeFile(file: string): void {
  fs.rmSync(file, { force: true });
}

const TAIL_WINDOW_BYTES = 256 * 1024;

/** The last lines of a log file (which only ever grows), reading no more than its end. */
export function tailOf(file: string, lines: number): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, TAIL_WINDOW_BYTES);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const content = buffer.toString('utf8').trimEnd();
    const all = content === '' ? [] : content.split('\n');
    if (length < size) all.shift(); // cut mid-line
    return all.slice(-lines);
  } finally {
    fs.closeSync(fd);
  }
}
