import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { LocalInfraError, LocalInfraErrorCode } from './errors';

const MIN_JAVA = 17;

/** `JAVA_HOME/bin/java` when JAVA_HOME is set (what Maven uses too), else `java` from PATH. */
export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Major version from the first line of `java -version`: `openjdk version "17.0.15"`, `"1.8.0_292"`. */
export function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** Returns the java command after checking it runs and is new enough (Kafka 3.9 and mongo-java-server 1.47). */
export function requireJava(): string {
  const java = javaCommand();
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new LocalInfraError(
      LocalInfraErrorCode.MissingTool,
      `cannot run '${java}' (${result.error.message}): install a JDK ${MIN_JAVA}+ ` +
        `(e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME`,
    );
  }
  const major = parseJavaMajorVersion(result.stderr);
  if (major === undefined || major < MIN_JAVA) {
    throw new LocalInfraError(
      LocalInfraErrorCode.MissingTool,
      `'${java}' is Java ${major ?? 'of unknown version'}, Kafka and the store need Java ${MIN_JAVA}+: ` +
        `install a newer JDK or point JAVA_HOME at one`,
    );
  }
  return java;
}

export function requireMaven(): string {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new LocalInfraError(
      LocalInfraErrorCode.MissingTool,
      `cannot run 'mvn' (${result.error?.message ?? `exit code ${result.status}`}): ` +
        `install Maven 3.6.3+ (e.g. apt-get install maven); it downloads Kafka and the store from Maven Central`,
    );
  }
  return 'mvn';
}
