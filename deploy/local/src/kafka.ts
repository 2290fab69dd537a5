import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { kafkaEndpoint } from './config';
import { LocalInfraError, LocalInfraErrorCode } from './errors';
import {
  isKafkaStorageFormatted,
  kafkaServerPropertiesFile,
  renderKafkaServerProperties,
} from './kafka-config';
import { ASSETS, resolveHome } from './layout';
import { checkPortsFree, untilReady } from './launch';
import {
  type LaunchedProcess,
  type ManagedProcess,
  runToCompletion,
  spawnDetached,
} from './processes';
import { type ProgressOptions, provisionJars } from './provision';
import { waitForKafka } from './readiness';
import { requireJava } from './tools';

export const KAFKA_MAIN_CLASS = 'kafka.Kafka';
export const KAFKA_READY_TIMEOUT_MS = 120_000;

export interface KafkaProcessOptions {
  home?: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
}

/** What identifies our broker in a process list: its main class and its own config file. */
export function kafkaProcessMarkers(dataDir: string): string[] {
  return [KAFKA_MAIN_CLASS, kafkaServerPropertiesFile(path.resolve(dataDir))];
}

/** Formats storage on first use and starts the broker; returns without waiting for readiness. */
export async function launchKafka(
  options: KafkaProcessOptions,
  progress: ProgressOptions = {},
): Promise<LaunchedProcess> {
  await checkPortsFree([options.port, options.controllerPort], 'Kafka');
  const jarDir = await provisionJars(resolveHome(options.home), 'kafka', progress);
  const java = requireJava();
  const classpath = path.join(jarDir, '*');
  const log4j = `-Dlog4j.configuration=${pathToFileURL(ASSETS.kafkaLog4j).href}`;
  const dataDir = path.resolve(options.dataDir);
  const propertiesFile = kafkaServerPropertiesFile(dataDir);

  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(propertiesFile, renderKafkaServerProperties({ ...options, dataDir }));
  if (!isKafkaStorageFormatted(dataDir)) {
    progress.log?.(`formatting Kafka storage in ${dataDir}`);
    const storageTool = (...args: string[]) =>
      runToCompletion(
        java,
        [log4j, '-cp', classpath, 'kafka.tools.StorageTool', ...args],
        progress.signal,
      );
    const uuid = await storageTool('random-uuid');
    const clusterId = uuid.stdout.trim();
    const format =
      uuid.code === 0 ? await storageTool('format', '-t', clusterId, '-c', propertiesFile) : uuid;
    if (format.code !== 0) {
      throw new LocalInfraError(
        LocalInfraErrorCode.StartFailed,
        `Kafka StorageTool could not format ${dataDir} (exit code ${format.code})`,
        `${format.stdout}${format.stderr}`.trim().split('\n'),
      );
    }
  }

  return spawnDetached({
    command: java,
    args: [
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      log4j,
      '-cp',
      classpath,
      KAFKA_MAIN_CLASS,
      propertiesFile,
    ],
    logFile: options.logFile,
    endpoint: kafkaEndpoint(options.port),
  });
}

/** Starts a dedicated broker (formatting its storage if needed) and waits until it is ready. */
export async function startKafka(options: KafkaProcessOptions): Promise<ManagedProcess> {
  const broker = await launchKafka(options);
  await untilReady(broker, 'Kafka', options.logFile, (signal) =>
    waitForKafka([broker.endpoint], KAFKA_READY_TIMEOUT_MS, { signal }),
  );
  return broker;
}
