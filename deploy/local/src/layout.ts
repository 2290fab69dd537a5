import * as path from 'node:path';

export type InfraComponent = 'kafka' | 'mongo';

export const INFRA_COMPONENTS: readonly InfraComponent[] = ['kafka', 'mongo'];

export const KAFKA_VERSION = '3.9.1';
export const MONGO_JAVA_SERVER_VERSION = '1.47.0';

/** deploy/local, whether this file runs from src/ (ts) or dist/ (built). */
export const PACKAGE_DIR = path.resolve(__dirname, '..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '..', '..');

/** The checked-in inputs: poms, Kafka config templates, the store launcher. */
export const ASSETS = {
  kafkaPom: path.join(PACKAGE_DIR, 'kafka', 'pom.xml'),
  kafkaServerProperties: path.join(PACKAGE_DIR, 'kafka', 'server.properties'),
  kafkaLog4j: path.join(PACKAGE_DIR, 'kafka', 'log4j.properties'),
  mongoPom: path.join(PACKAGE_DIR, 'mongo', 'pom.xml'),
  mongoLauncher: path.join(PACKAGE_DIR, 'mongo', 'ShoalMongoLauncher.java'),
} as const;

export function resolveHome(home?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(home ?? (env.SHOAL_HOME || path.join(REPO_ROOT, '.shoal')));
}

/** Where everything lives under the Shoal home folder (default `<repo>/.shoal`). */
export interface InfraLayout {
  home: string;
  jarDir(component: InfraComponent): string;
  kafkaDataDir: string;
  mongoDataFile: string;
  runDir: string;
  pidFile(component: InfraComponent): string;
  /** The lock directory `up`, `down` and provisioning hold (proper-lockfile). */
  lockDir: string;
  logsDir: string;
  logFile(component: InfraComponent): string;
}

export function infraLayout(home: string): InfraLayout {
  const cache = path.join(home, 'cache');
  const runDir = path.join(home, 'run');
  const logsDir = path.join(home, 'logs');
  return {
    home,
    jarDir: (component) =>
      component === 'kafka'
        ? path.join(cache, `kafka-${KAFKA_VERSION}`)
        : path.join(cache, `mongo-java-server-${MONGO_JAVA_SERVER_VERSION}`),
    kafkaDataDir: path.join(home, 'data', 'kafka'),
    mongoDataFile: path.join(home, 'data', 'mongo', 'shoal.mv'),
    runDir,
    pidFile: (component) => path.join(runDir, `${component}.pid`),
    lockDir: path.join(runDir, 'infra.lock'),
    logsDir,
    logFile: (component) => path.join(logsDir, `${component}.log`),
  };
}
