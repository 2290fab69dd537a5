import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalInfraError, LocalInfraErrorCode } from './errors';
import { ASSETS, type InfraComponent, infraLayout } from './layout';
import { withLock } from './lock';
import { runToCompletion } from './processes';
import { requireMaven } from './tools';

const MARKER = '.provisioned';
// Maven's console library emits colour resets even in batch mode
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function withoutColours(text: string): string {
  return text.replace(ANSI_ESCAPE, '');
}

/** Where a long step reports progress, and how it is cancelled (Ctrl-C in the CLI). */
export interface ProgressOptions {
  log?: (line: string) => void;
  signal?: AbortSignal;
}

function pomOf(component: InfraComponent): string {
  return component === 'kafka' ? ASSETS.kafkaPom : ASSETS.mongoPom;
}

/**
 * The marker is written last and holds a hash of the pom: a copy that was cut short, or made from
 * an older pom, is done again.
 */
function isProvisioned(jarDir: string, pomHash: string): boolean {
  try {
    return fs.readFileSync(path.join(jarDir, MARKER), 'utf8').trim() === pomHash;
  } catch {
    return false;
  }
}

/** Copies the jars a component runs with into the cache, once; returns that folder. */
export async function provisionJars(
  home: string,
  component: InfraComponent,
  { log = () => undefined, signal }: ProgressOptions = {},
): Promise<string> {
  const layout = infraLayout(home);
  const jarDir = layout.jarDir(component);
  const pom = pomOf(component);
  const pomHash = createHash('sha256').update(fs.readFileSync(pom)).digest('hex');
  if (isProvisioned(jarDir, pomHash)) return jarDir;

  const lockDir = path.join(path.dirname(jarDir), 'provisioning.lock');
  return withLock(
    lockDir,
    { ...(signal ? { signal } : {}), onWait: () => log(`waiting for provisioning (${lockDir})`) },
    async (signal) => {
      if (isProvisioned(jarDir, pomHash)) return jarDir;
      const mvn = requireMaven();
      log(
        `provisioning ${component} jars into ${jarDir} with Maven (the first run downloads from Maven Central)`,
      );
      const started = Date.now();
      fs.rmSync(jarDir, { recursive: true, force: true });
      fs.mkdirSync(jarDir, { recursive: true });
      const result = await runToCompletion(
        mvn,
        ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${jarDir}`],
        signal,
      );
      const jars = fs.readdirSync(jarDir).filter((name) => name.endsWith('.jar'));
      if (result.code !== 0 || jars.length === 0) {
        throw new LocalInfraError(
          LocalInfraErrorCode.ProvisionFailed,
          `mvn could not copy the ${component} jars from ${pom} (exit code ${result.code})`,
          withoutColours(`${result.stdout}${result.stderr}`)
            .trim()
            .split('\n')
            .map((line) => line.trimEnd())
            .slice(-15),
        );
      }
      fs.writeFileSync(path.join(jarDir, MARKER), `${pomHash}\n`);
      log(
        `provisioned ${jars.length} ${component} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return jarDir;
    },
  );
}
