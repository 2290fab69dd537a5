import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import {
  BSON,
  MongoBulkWriteError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb';
import { DomainError, ErrorKind, ValidationError } from '../errors/domain-error';
import { PROCESSING_FAILED, classifyFailure, describeFailure } from './failures';

const protocolError = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as never);

// the type declarations omit the message kafkajs's constructor reads
const coordinatorNotFound = () =>
  new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)(
    'Failed to find group coordinator',
  );

const emptyBulkResult = {
  insertedCount: 0,
  matchedCount: 0,
  modifiedCount: 0,
  deletedCount: 0,
  upsertedCount: 0,
  upsertedIds: {},
  insertedIds: {},
} as never;

const selectionError = () =>
  new MongoServerSelectionError('connect ECONNREFUSED 127.0.0.1:27017', {
    servers: new Map(),
  } as never);

/** How kafkajs's retrier reports what it gave up on (src/retry/index.js). */
const retriesExceeded = (cause: Error) =>
  new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1000 });

function bsonError(): Error {
  try {
    BSON.serialize({ 'a\u0000b': 1 });
  } catch (error) {
    return error as Error;
  }
  throw new Error('serialize accepted a NUL in a key');
}

describe('classifying failures', () => {
  it.each([
    ['a broker connection error', new KafkaJSConnectionError('Connection error: ECONNREFUSED')],
    ['a request timeout', new KafkaJSRequestTimeoutError('Request produce(key: 0) timed out')],
    ['a retriable broker error', protocolError('LEADER_NOT_AVAILABLE', true)],
    ['kafkajs giving up on a connection error', retriesExceeded(new KafkaJSConnectionError('x'))],
    ['a missing group coordinator', coordinatorNotFound()],
    ['the broker refusing Shoal’s credentials', protocolError('TOPIC_AUTHORIZATION_FAILED', false)],
    [
      'brokers all down in one send',
      new KafkaJSAggregateError('x', [
        new KafkaJSConnectionError('a'),
        protocolError('NOT_LEADER_OR_FOLLOWER', true),
      ]),
    ],
    ['a store network error', new MongoNetworkError('connection 1 to 127.0.0.1:27017 closed')],
    ['a store network timeout', new MongoNetworkTimeoutError('timed out')],
    ['no store server to select', selectionError()],
    [
      // what collection.bulkWrite throws while the store is down
      'a bulk write that found no store server',
      new MongoBulkWriteError(selectionError(), emptyBulkResult),
    ],
    ['a store failing over', new MongoServerError({ message: 'not primary', code: 10107 })],
    [
      'a store error labelled retryable',
      new MongoServerError({ message: 'x', code: 1, errorLabels: ['RetryableWriteError'] }),
    ],
    ['a socket reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['an unavailable dependency', new DomainError(ErrorKind.Unavailable, 'STORE_DOWN', 'down')],
    ['lost optimistic concurrency', new DomainError(ErrorKind.Aborted, 'CONFLICT', 'retry')],
    [
      'a wrapped connection error',
      new Error('publish failed', { cause: new MongoNetworkError('x') }),
    ],
  ])('retries %s for as long as it lasts', (_, error) => {
    expect(classifyFailure(error)).toBe('transient');
  });

  it.each([
    ['an invalid record', new ValidationError([{ field: 'userId', description: 'is required' }])],
    ['a record over a limit', new DomainError(ErrorKind.ResourceExhausted, 'TOO_LARGE', 'big')],
  ])('treats %s, refused on purpose, as permanent', (_, error) => {
    expect(classifyFailure(error)).toBe('permanent');
  });

  it.each([
    ['a plain error', new Error('boom')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a key the driver cannot serialise', bsonError()],
    [
      'a bulk write of a key the driver cannot serialise',
      new MongoBulkWriteError(bsonError(), emptyBulkResult),
    ],
    ['a duplicate key', new MongoServerError({ message: 'E11000 duplicate key', code: 11000 })],
    [
      'a write error in a bulk write',
      new MongoBulkWriteError({ message: 'key must not contain "."', code: 2 }, emptyBulkResult),
    ],
    [
      'a record the broker refuses',
      new KafkaJSNonRetriableError(protocolError('MESSAGE_TOO_LARGE', false)),
    ],
    ['a non-retriable kafkajs error', new KafkaJSError('bad', { retriable: false })],
    ['something that is not an Error', 'a string'],
  ])('retries %s a bounded number of times (unknown)', (_, error) => {
    expect(classifyFailure(error)).toBe('unknown');
  });

  it('does not follow a cycle of causes for ever', () => {
    const error = new Error('a') as Error & { cause?: unknown };
    error.cause = new Error('b', { cause: error });
    expect(classifyFailure(error)).toBe('unknown');
  });
});

describe('describing failures for dead letters', () => {
  it('keeps a domain error’s reason and message', () => {
    const error = new ValidationError(
      [{ field: 'traits.a', description: 'is bad' }],
      'INVALID_EVENT',
    );
    expect(describeFailure(error)).toEqual({ reason: 'INVALID_EVENT', error: 'traits.a: is bad' });
  });

  it('names any other error’s type under one reason', () => {
    expect(describeFailure(bsonError())).toEqual({
      reason: PROCESSING_FAILED,
      error: expect.stringMatching(/^BSONError: .*null bytes/),
    });
  });

  it('bounds the text', () => {
    const { error } = describeFailure(new Error('x'.repeat(10_000)));
    expect(error.length).toBe(2_000);
    expect(error.endsWith('…')).toBe(true);
  });
});
