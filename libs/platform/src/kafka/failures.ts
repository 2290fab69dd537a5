import {
  KafkaJSAggregateError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSMetadataNotLoaded,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSStaleTopicMetadataAssignment,
  KafkaJSTimeout,
} from 'kafkajs';
import {
  MongoBulkWriteError,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { DomainError } from '../errors/domain-error';

/**
 * How a consumer treats a failure:
 * - `transient`: a dependency is unavailable (broker, network, store); retry for as long as it takes;
 * - `permanent`: a DomainError that refuses the records on purpose; retrying cannot help;
 * - `unknown`: anything else (a bug, a driver refusing a value); retried a bounded number of
 *   times, then treated as permanent, so one bad record can never stall a partition.
 */
export type FailureKind = 'transient' | 'permanent' | 'unknown';

/** Server error codes MongoDB documents as "retry may succeed" (network, elections, shutdown). */
const RETRYABLE_MONGO_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * The cluster refusing Shoal itself (credentials, ACLs) is no fault of the record: retried like
 * an outage, so the stall shows in readiness instead of every record being dead-lettered.
 */
const KAFKA_REFUSALS_OF_SHOAL = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
]);
const MONGO_REFUSALS_OF_SHOAL = new Set([
  13, // Unauthorized
  18, // AuthenticationFailed
]);

const TRANSIENT_MONGO_LABELS: readonly string[] = [
  MongoErrorLabel.RetryableWriteError,
  MongoErrorLabel.TransientTransactionError,
  MongoErrorLabel.ResetPool,
  MongoErrorLabel.PoolRequstedRetry,
  MongoErrorLabel.InterruptInUseConnections,
];

/** Socket-level failures Node reports by code, whichever library surfaced them. */
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Classifies an error by its type: availability problems of Kafka and the store are transient. */
export function classifyFailure(error: unknown): FailureKind {
  return classify(error, 0);
}

function classify(error: unknown, depth: number): FailureKind {
  if (depth > 5 || !(error instanceof Error)) return 'unknown';
  if (error instanceof DomainError) return error.transient ? 'transient' : 'permanent';
  if (error instanceof KafkaJSError || error instanceof KafkaJSAggregateError)
    return classifyKafka(error, depth);
  if (error instanceof MongoError) return classifyMongo(error, depth);
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && TRANSIENT_SYSTEM_CODES.has(code)) return 'transient';
  return error.cause !== undefined && error.cause !== error
    ? orUnknown(classify(error.cause, depth + 1))
    : 'unknown';
}

function classifyKafka(error: KafkaJSError | KafkaJSAggregateError, depth: number): FailureKind {
  if (error instanceof KafkaJSAggregateError) {
    const kinds = error.errors.map((e) => classify(e, depth + 1));
    return kinds.length > 0 && kinds.every((k) => k === 'transient') ? 'transient' : 'unknown';
  }
  if (
    error instanceof KafkaJSConnectionError ||
    error instanceof KafkaJSRequestTimeoutError ||
    error instanceof KafkaJSBrokerNotFound ||
    error instanceof KafkaJSGroupCoordinatorNotFound ||
    error instanceof KafkaJSMetadataNotLoaded ||
    error instanceof KafkaJSStaleTopicMetadataAssignment ||
    error instanceof KafkaJSTimeout ||
    error instanceof KafkaJSSASLAuthenticationError
  ) {
    return 'transient';
  }
  if (error instanceof KafkaJSProtocolError)
    return error.retriable || KAFKA_REFUSALS_OF_SHOAL.has(error.type) ? 'transient' : 'unknown';
  // kafkajs wraps what its own retries gave up on or refused; the cause says which it was
  if (error instanceof KafkaJSNumberOfRetriesExceeded || error instanceof KafkaJSNonRetriableError)
    return error.cause !== error ? orUnknown(classify(error.cause, depth + 1)) : 'unknown';
  return error.retriable ? 'transient' : 'unknown';
}

function classifyMongo(error: MongoError, depth: number): FailureKind {
  if (error instanceof MongoBulkWriteError) {
    // the driver wraps whatever failed a bulk write, a lost connection included
    if (error.errorResponse instanceof Error && error.errorResponse !== error)
      return orUnknown(classify(error.errorResponse, depth + 1));
    if (error.err) return 'transient';
  }
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoWriteConcernError
  ) {
    return 'transient';
  }
  if (TRANSIENT_MONGO_LABELS.some((label) => error.hasErrorLabel(label))) return 'transient';
  if (
    error instanceof MongoServerError &&
    (RETRYABLE_MONGO_CODES.has(Number(error.code)) ||
      MONGO_REFUSALS_OF_SHOAL.has(Number(error.code)))
  )
    return 'transient';
  return 'unknown';
}

/** A wrapper's cause decides only when it is transient; a wrapper is never a deliberate refusal. */
function orUnknown(kind: FailureKind): FailureKind {
  return kind === 'transient' ? 'transient' : 'unknown';
}

/** The reason a dead letter carries for a failure that was not a deliberate DomainError. */
export const PROCESSING_FAILED = 'PROCESSING_FAILED';

const MAX_ERROR_CHARS = 2_000;

/** Machine-readable reason and bounded text of a failure, for dead-letter headers and logs. */
export function describeFailure(error: unknown): { reason: string; error: string } {
  if (error instanceof DomainError) return { reason: error.reason, error: bound(error.message) };
  if (error instanceof Error) {
    return { reason: PROCESSING_FAILED, error: bound(`${error.name}: ${error.message}`) };
  }
  return { reason: PROCESSING_FAILED, error: bound(String(error)) };
}

function bound(text: string): string {
  return text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS - 1)}…`;
}
