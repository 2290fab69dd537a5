import pino, { type Logger } from 'pino';
import { currentTrace } from '../tracing/trace-context';
import { SecretMask } from './secret-mask';

export type { Logger } from 'pino';

export const LOGGER = Symbol('Logger');

/** Field paths that hold credentials wherever they appear in a log object. */
const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
  'sasl',
  '*.sasl',
];

export interface LoggerOptions {
  readonly service: string;
  readonly version: string;
  readonly level: string;
  readonly secrets: SecretMask;
  /** Where lines go; stdout by default. Tests pass a collector. */
  readonly destination?: { write(line: string): unknown };
}

/** Structured JSON logs: one line per record, trace id attached, secrets masked. */
export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? process.stdout;
  return pino(
    {
      level: options.level,
      base: { service: options.service, version: options.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const trace = currentTrace();
        return trace ? { traceId: trace.traceId } : {};
      },
    },
    { write: (line: string) => out.write(options.secrets.apply(line)) },
  );
}
