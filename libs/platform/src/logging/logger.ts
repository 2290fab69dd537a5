import pino, { type Logger } from 'pino';
import { isSecretName } from '../config/secrets';
import { currentTrace } from '../tracing/trace-context';
import { REDACTED, SecretMask } from './secret-mask';

export type { Logger } from 'pino';

export const LOGGER = Symbol('Logger');

/** Deeper than this, a logged object is cut rather than walked. */
const MAX_DEPTH = 12;

export interface LoggerOptions {
  readonly service: string;
  readonly version: string;
  readonly level: string;
  readonly secrets: SecretMask;
  /** Where lines go; stdout by default. Tests pass a collector. */
  readonly destination?: { write(line: string): unknown };
}

/**
 * Structured JSON logs: one line per record, trace id attached. Secrets are kept out twice:
 * fields and headers named like credentials are redacted at any depth (errors' own fields
 * included), and every line is masked for the configured secret values in each encoding.
 */
export function createLogger(options: LoggerOptions): Logger {
  const out = options.destination ?? process.stdout;
  return pino(
    {
      level: options.level,
      base: { service: options.service, version: options.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        // the serialized error is not a plain object: walk its own fields explicitly
        err: (error: Error) => redactFields(pino.stdSerializers.err(error), 0),
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (record) => redactSecretFields(record) as Record<string, unknown>,
      },
      mixin() {
        const trace = currentTrace();
        return trace ? { traceId: trace.traceId } : {};
      },
    },
    { write: (line: string) => out.write(options.secrets.apply(line)) },
  );
}

/**
 * A copy of a logged value with the values of secret-named fields replaced; plain objects and
 * arrays are walked, anything else (errors go through their serializer) is left as it is.
 */
function redactSecretFields(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    return depth >= MAX_DEPTH ? '[too deep]' : value.map((v) => redactSecretFields(v, depth + 1));
  }
  if (!isPlainObject(value)) return value;
  return redactFields(value, depth);
}

function redactFields(value: object, depth: number): unknown {
  if (depth >= MAX_DEPTH) return '[too deep]';
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    copy[key] =
      isSecretName(key) && field !== undefined && field !== null
        ? REDACTED
        : redactSecretFields(field, depth + 1);
  }
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
