import * as fs from 'node:fs';
import * as path from 'node:path';
import { mongoUrl } from './config';
import { ASSETS, resolveHome } from './layout';
import { checkPortsFree, untilReady } from './launch';
import { type LaunchedProcess, spawnDetached } from './processes';
import { type ProgressOptions, provisionJars } from './provision';
import { waitForMongo } from './readiness';
import { requireJava } from './tools';

export const MONGO_READY_TIMEOUT_MS = 60_000;

/**
 * The parallel collector spends less CPU than G1 on this allocation-heavy server, and the
 * larger heap lets it collect less often (measured, deploy/local/README.md).
 */
export const MONGO_JAVA_OPTIONS: readonly string[] = ['-XX:+UseParallelGC', '-Xmx2g'];

export interface MongoProcessOptions {
  home?: string;
  port: number;
  dataFile: string;
  logFile: string;
  /** A Java source file run as `<launcher> <port> <data file>`; ShoalMongoLauncher.java when not given. */
  launcher?: string;
  /** JVM options; MONGO_JAVA_OPTIONS when not given. */
  javaOptions?: readonly string[];
  /**
   * The largest file the process may write, in bytes (RLIMIT_FSIZE, set by util-linux's
   * `prlimit`): a store that runs out of room, for tests. Unlimited when not given.
   */
  maxFileBytes?: number;
}

/** What identifies our store in a process list: the launcher and its data file. */
export function mongoProcessMarkers(dataFile: string): string[] {
  return [path.basename(ASSETS.mongoLauncher), path.resolve(dataFile)];
}

/** Starts the store on its data file; returns without waiting for readiness. */
export async function launchMongo(
  options: MongoProcessOptions,
  progress: ProgressOptions = {},
): Promise<LaunchedProcess> {
  await checkPortsFree([options.port], 'the store');
  const jarDir = await provisionJars(resolveHome(options.home), 'mongo', progress);
  const java = requireJava();
  const dataFile = path.resolve(options.dataFile);
  fs.mkdirSync(path.dirname(dataFile), { recursive: true });
  const limit = options.maxFileBytes;
  return spawnDetached({
    command: limit === undefined ? java : 'prlimit',
    args: [
      ...(limit === undefined ? [] : [`--fsize=${limit}`, java]),
      ...(options.javaOptions ?? MONGO_JAVA_OPTIONS),
      '-cp',
      path.join(jarDir, '*'),
      path.resolve(options.launcher ?? ASSETS.mongoLauncher),
      String(options.port),
      dataFile,
    ],
    logFile: options.logFile,
    endpoint: mongoUrl(options.port),
  });
}

/** Starts a dedicated store and waits until it answers a ping. */
export async function startMongo(options: MongoProcessOptions): Promise<LaunchedProcess> {
  const store = await launchMongo(options);
  await untilReady(store, 'the store', options.logFile, (signal) =>
    waitForMongo(store.endpoint, MONGO_READY_TIMEOUT_MS, { signal }),
  );
  return store;
}
