import pino, { type Logger } from 'pino';
import { isSecretName } from '../config/secrets';
import { currentTrace } from '../tracing/trace-context';
import { REDACTED, SecretMask } from './secret-mask';

export type { Logger } from 'pino';

export const LOGGER = Symbol('Logger');

/** Deeper than this, a logged object is cut rather than walked. */
const MAX_DEPTH = 12;
/**
 * Longer arrays, objects with more fields and longer strings are cut, saying how much was left
 * out: an error may carry a store result naming every document of a bulk write (megabytes of ids
 * on one line, personal data among them).
 */
const MAX_ITEMS = 20;
const MAX_FIELDS = 50;
const MAX_STRING = 4_096;

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
        // `err` is left to its serializer, which runs after this
        log: (record) => {
          const { err, ...rest } = record;
          const copy = redactFields(rest, 0) as Record<string, unknown>;
          return err === undefined ? copy : { ...copy, err };
        },
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
 * A bounded copy of a logged value with the values of secret-named fields replaced. Arrays and
 * objects are walked — class instances too, as JSON would write their fields, after `toJSON`
 * where they have one; errors inside go through the error serializer.
 */
function redactSecretFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cut(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map((v) => redactSecretFields(v, depth + 1));
    return value.length > MAX_ITEMS ? [...kept, `… ${more(value.length - MAX_ITEMS)}`] : kept;
  }
  if (value instanceof Error) return redactFields(pino.stdSerializers.err(value), depth);
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') {
    const plain = (json as () => unknown).call(value);
    return plain === value ? redactFields(value, depth) : redactSecretFields(plain, depth);
  }
  return redactFields(value, depth);
}

function redactFields(value: object, depth: number): unknown {
  if (depth >= MAX_DEPTH) return '[too deep]';
  const copy: Record<string, unknown> = {};
  let fields = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (fields++ === MAX_FIELDS) {
      copy['…'] = `${more(Object.keys(value).length - MAX_FIELDS)} fields`;
      break;
    }
    const field = (value as Record<string, unknown>)[key];
    copy[key] =
      isSecretName(key) && field !== undefined && field !== null
        ? REDACTED
        : redactSecretFields(field, depth + 1);
  }
  return copy;
}

const cut = (text: string): string =>
  text.length > MAX_STRING
    ? `${text.slice(0, MAX_STRING)}… ${more(text.length - MAX_STRING)} characters`
    : text;

const more = (n: number): string => `${n.toLocaleString('en-US')} more`;
