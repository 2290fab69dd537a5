import { LOOPBACK } from './config';
import { LocalInfraError, LocalInfraErrorCode } from './errors';
import { isPortFree } from './ports';
import { type LaunchedProcess, tailOf } from './processes';

export async function checkPortsFree(ports: number[], what: string, hint = ''): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port))) {
      throw new LocalInfraError(
        LocalInfraErrorCode.PortInUse,
        `cannot start ${what}: ${LOOPBACK}:${port} is already in use by another process${hint}`,
      );
    }
  }
}

/**
 * Waits until `wait` resolves, failing fast with the end of the log when the process exits
 * meanwhile. A process that does not become ready (timeout, abort) is killed.
 */
export async function untilReady(
  started: LaunchedProcess,
  what: string,
  logFile: string,
  wait: (signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const exitedEarly = new AbortController();
  void started.exited.then(() => exitedEarly.abort());
  try {
    await wait(signal ? AbortSignal.any([signal, exitedEarly.signal]) : exitedEarly.signal);
  } catch (error) {
    if (started.hasExited()) {
      throw new LocalInfraError(
        LocalInfraErrorCode.StartFailed,
        `${what} exited while starting (${await started.exited}), see ${logFile}`,
        tailOf(logFile, 20),
      );
    }
    await started.kill('SIGKILL');
    throw error;
  }
}
