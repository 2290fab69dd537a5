import { AsyncLocalStorage } from 'node:async_hooks';
import type { Collection, Document } from 'mongodb';
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { DomainError, ErrorKind } from '../errors/domain-error';
import { answerWithin } from '../time/answer-within';

/** The reason a read made for a caller ran out of time. */
export const STORE_TIME_LIMIT = 'STORE_TIME_LIMIT';
/** The reason a call failed because the store could not be reached. */
export const STORE_UNAVAILABLE = 'STORE_UNAVAILABLE';

/** MongoDB's MaxTimeMSExpired: the server stopped an operation at its maxTimeMS. */
const MAX_TIME_MS_EXPIRED = 50;

interface CallLimit {
  readonly limitMs: number;
  /** The call's deadline (epoch ms), infinite without one. */
  readonly deadline: number;
  /** A stream's cursors run as long as the caller reads; only its point reads are limited. */
  readonly limitCursors: boolean;
}

const calls = new AsyncLocalStorage<CallLimit>();

/**
 * Runs a served call with a time limit on each of its store reads: `limitMs`, or less when the
 * call's deadline is nearer. Reads through a repository's collection (MongoRepository) inside it carry
 * `maxTimeMS`, and a point read or count that has not answered by then fails with
 * UNAVAILABLE / STORE_TIME_LIMIT: a server that ignores `maxTimeMS` (the embedded store does)
 * cannot hold the call either.
 */
export function withStoreTimeLimit<T>(
  options: { limitMs: number; deadline: Date | undefined; stream: boolean },
  run: () => Promise<T>,
): Promise<T> {
  const deadline = options.deadline?.getTime() ?? Number.POSITIVE_INFINITY;
  return calls.run({ limitMs: options.limitMs, deadline, limitCursors: !options.stream }, run);
}

/** The error a read that ran out of time becomes: a dependency too slow now, worth a retry. */
function storeTimeLimitError(message: string, cause?: unknown): DomainError {
  return new DomainError(ErrorKind.Unavailable, STORE_TIME_LIMIT, message, [], { cause });
}

/**
 * A store failure as a caller should see it: UNAVAILABLE, with STORE_TIME_LIMIT for a read the
 * server stopped at its `maxTimeMS` and STORE_UNAVAILABLE for a store that cannot be reached;
 * undefined for anything else.
 */
export function storeFailureForCaller(error: unknown): DomainError | undefined {
  if (error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED)
    return storeTimeLimitError(
      'the store stopped the read at its time limit; try again later',
      error,
    );
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  )
    return new DomainError(
      ErrorKind.Unavailable,
      STORE_UNAVAILABLE,
      'the store cannot be reached; try again later',
      [],
      { cause: error },
    );
  return undefined;
}

/**
 * How long a store operation outside a served call may go unanswered before it is given up as
 * a transient failure (MongoOperationTimeoutError), which its caller retries. Far beyond any
 * healthy operation (the checkpoints' commands are bounded); it is there for the operation the
 * driver never settles: the 1M-profile benchmark had a checkpoint's bulk write on a connection
 * the driver had interrupted and destroyed wait for ever, holding its partition.
 */
export const STORE_OPERATION_DEADLINE_MS = 120_000;

const POINT_READS = new Set(['findOne', 'countDocuments', 'estimatedDocumentCount', 'distinct']);
/** Operations with a single answer: given up at STORE_OPERATION_DEADLINE_MS outside served calls. */
const SINGLE_ANSWERS = new Set([
  ...POINT_READS,
  'bulkWrite',
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
]);
const CURSOR_READS = new Set(['find', 'aggregate']);
/** Where each read method takes its options. */
const OPTIONS_AT: Record<string, number> = {
  findOne: 1,
  countDocuments: 1,
  estimatedDocumentCount: 0,
  distinct: 2,
  find: 1,
  aggregate: 1,
};

/**
 * How one operation is limited: by the served call it is made for (`maxTimeMS`, and a point read
 * is given up client-side too), by STORE_OPERATION_DEADLINE_MS, or not at all (cursors outside a
 * call, whose consumers read them as long as they need).
 */
function limitOf(method: string, call: CallLimit | undefined): 'call' | 'deadline' | 'none' {
  if (POINT_READS.has(method)) return call ? 'call' : 'deadline';
  // a write is never cut short by a caller's deadline: it could have been applied anyway
  if (SINGLE_ANSWERS.has(method)) return 'deadline';
  if (CURSOR_READS.has(method)) return call?.limitCursors ? 'call' : 'none';
  return 'none';
}

/**
 * The collection a repository works through: inside a served call (withStoreTimeLimit), its reads
 * carry the call's `maxTimeMS`, and point reads are given up on client-side when it passes;
 * single-answer operations otherwise are given up after STORE_OPERATION_DEADLINE_MS.
 */
export function timeLimitedCollection<T extends Document>(
  collection: Collection<T>,
): Collection<T> {
  return new Proxy(collection, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function') return value;
      if (!SINGLE_ANSWERS.has(property) && !CURSOR_READS.has(property)) return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const call = calls.getStore();
        const limit = limitOf(property, call);
        if (limit === 'none') return method.apply(target, args);
        if (limit === 'deadline' || call === undefined)
          return withinDeadline(method.apply(target, args) as Promise<unknown>, property);
        const leftMs = Math.max(1, Math.floor(Math.min(call.limitMs, call.deadline - Date.now())));
        const at = OPTIONS_AT[property] as number;
        const limited = [...args];
        while (limited.length < at) limited.push(undefined);
        limited[at] = { ...(limited[at] as object | undefined), maxTimeMS: leftMs };
        const result = method.apply(target, limited);
        return POINT_READS.has(property) ? withinTime(result as Promise<unknown>, leftMs) : result;
      };
    },
  });
}

/** The read's answer, or STORE_TIME_LIMIT once `ms` passed without one (the read runs on unheard). */
function withinTime<R>(read: Promise<R>, ms: number): Promise<R> {
  return answerWithin(read, ms, () =>
    storeTimeLimitError(`the store did not answer within ${ms} ms; try again later`),
  );
}

/** The operation's answer, or a transient MongoOperationTimeoutError once the deadline passed. */
function withinDeadline<R>(operation: Promise<R>, name: string): Promise<R> {
  return answerWithin(
    operation,
    STORE_OPERATION_DEADLINE_MS,
    () =>
      new MongoOperationTimeoutError(
        `the store did not answer ${name} within ${STORE_OPERATION_DEADLINE_MS} ms; given up, to be retried`,
      ),
  );
}
