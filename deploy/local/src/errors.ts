export enum LocalInfraErrorCode {
  MissingTool = 'MISSING_TOOL',
  InvalidConfig = 'INVALID_CONFIG',
  ProvisionFailed = 'PROVISION_FAILED',
  PortInUse = 'PORT_IN_USE',
  StartFailed = 'START_FAILED',
  NotReady = 'NOT_READY',
  NotStarted = 'NOT_STARTED',
  LockLost = 'LOCK_LOST',
}

/**
 * Every failure of local provisioning and process control. `summary` is one line for a human;
 * `details` (the end of a log, Maven's output) follow it in `message` so test failures show them.
 */
export class LocalInfraError extends Error {
  constructor(
    readonly code: LocalInfraErrorCode,
    readonly summary: string,
    readonly details: string[] = [],
  ) {
    super([summary, ...details].join('\n'));
    this.name = 'LocalInfraError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
