import { status } from '@grpc/grpc-js';
import {
  type Collection,
  MongoNetworkError,
  MongoOperationTimeoutError,
  MongoServerError,
} from 'mongodb';
import { toGrpcFailure } from '../grpc/status';
import { classifyFailure } from '../kafka/failures';
import {
  STORE_OPERATION_DEADLINE_MS,
  STORE_TIME_LIMIT,
  STORE_UNAVAILABLE,
  storeFailureForCaller,
  timeLimitedCollection,
  withStoreTimeLimit,
} from './store-time-limit';

/** A collection that records the arguments of its reads; `findOne` answers after `delayMs`. */
function recordingCollection(delayMs = 0) {
  const calls: { method: string; args: unknown[] }[] = [];
  const record =
    (method: string, answer: () => unknown) =>
    (...args: unknown[]) => {
      calls.push({ method, args });
      return answer();
    };
  const collection = {
    collectionName: 'things',
    findOne: record(
      'findOne',
      () => new Promise((resolve) => setTimeout(() => resolve({ _id: 'a' }), delayMs)),
    ),
    countDocuments: record('countDocuments', async () => 3),
    distinct: record('distinct', async () => ['x']),
    find: record('find', () => ({ cursor: true })),
    aggregate: record('aggregate', () => ({ cursor: true })),
    updateOne: record('updateOne', async () => ({ matchedCount: 1 })),
  };
  return {
    collection: timeLimitedCollection(collection as unknown as Collection<{ _id: string }>),
    calls,
  };
}

const unary = { limitMs: 5_000, deadline: undefined, stream: false };

describe('reads made for a served call', () => {
  it('carry no time limit outside a call (consumers, relays, start-up)', async () => {
    const { collection, calls } = recordingCollection();
    await collection.findOne({ _id: 'a' });
    collection.find({ g: 1 }, { sort: { _id: 1 } });
    expect(calls.map((c) => c.args)).toEqual([[{ _id: 'a' }], [{ g: 1 }, { sort: { _id: 1 } }]]);
  });

  it('carry maxTimeMS, keeping the options they were given', async () => {
    const { collection, calls } = recordingCollection();
    await withStoreTimeLimit(unary, async () => {
      await collection.findOne({ _id: 'a' }, { projection: { name: 1 } });
      await collection.countDocuments({ g: 1 });
      await collection.distinct('tag', { g: 1 });
      collection.aggregate([{ $match: {} }]);
      await collection.updateOne({ _id: 'a' }, { $set: { n: 1 } });
    });
    expect(calls.map((c) => [c.method, c.args])).toEqual([
      ['findOne', [{ _id: 'a' }, { projection: { name: 1 }, maxTimeMS: 5_000 }]],
      ['countDocuments', [{ g: 1 }, { maxTimeMS: 5_000 }]],
      ['distinct', ['tag', { g: 1 }, { maxTimeMS: 5_000 }]],
      ['aggregate', [[{ $match: {} }], { maxTimeMS: 5_000 }]],
      ['updateOne', [{ _id: 'a' }, { $set: { n: 1 } }]],
    ]);
  });

  it('get less time when the call deadline is nearer than the limit', async () => {
    const { collection, calls } = recordingCollection();
    const deadline = new Date(Date.now() + 800);
    await withStoreTimeLimit({ ...unary, deadline }, () => collection.countDocuments({}));
    const maxTimeMS = (calls[0]?.args[1] as { maxTimeMS: number }).maxTimeMS;
    expect(maxTimeMS).toBeGreaterThan(500);
    expect(maxTimeMS).toBeLessThanOrEqual(800);
  });

  it('answer UNAVAILABLE when the store has not answered a point read in time, even if it ignores maxTimeMS', async () => {
    const { collection } = recordingCollection(300);
    const read = withStoreTimeLimit({ ...unary, limitMs: 50 }, () =>
      collection.findOne({ _id: 'a' }),
    );
    await expect(read).rejects.toMatchObject({ reason: STORE_TIME_LIMIT });
    const failure = toGrpcFailure(await read.catch((error: unknown) => error));
    expect(failure.code).toBe(status.UNAVAILABLE);
    expect(failure.details).toBe('the store did not answer within 50 ms; try again later');
  });

  it('leave the cursors of a stream unlimited, its point reads not', async () => {
    const { collection, calls } = recordingCollection();
    await withStoreTimeLimit({ ...unary, stream: true }, async () => {
      collection.find({ g: 1 });
      await collection.countDocuments({ g: 1 });
    });
    expect(calls.map((c) => c.args)).toEqual([[{ g: 1 }], [{ g: 1 }, { maxTimeMS: 5_000 }]]);
  });
});

describe('store operations outside a served call (consumers, checkpoints, relays)', () => {
  afterEach(() => jest.useRealTimers());

  /** A collection whose writes and reads never answer, as after a connection the driver lost track of. */
  function hungCollection() {
    const never = () => new Promise<never>(() => undefined);
    return timeLimitedCollection({
      collectionName: 'states',
      bulkWrite: never,
      updateOne: never,
      findOne: never,
      createIndexes: never,
    } as unknown as Collection<{ _id: string }>);
  }

  it('are given up after the operation deadline as a transient failure, so the caller retries instead of waiting for ever', async () => {
    jest.useFakeTimers();
    const collection = hungCollection();
    const outcomes = [
      collection.bulkWrite([], { ordered: false }),
      collection.updateOne({ _id: 'a' }, { $set: { s: 'x' } }),
      collection.findOne({ _id: 'a' }),
    ].map((operation) =>
      operation.then(
        () => 'answered',
        (error: unknown) => error,
      ),
    );
    await jest.advanceTimersByTimeAsync(STORE_OPERATION_DEADLINE_MS + 1);
    for (const outcome of await Promise.all(outcomes)) {
      expect(outcome).toBeInstanceOf(MongoOperationTimeoutError);
      expect(classifyFailure(outcome)).toBe('transient');
    }
  });

  it('leave index builds to run as long as they take', async () => {
    jest.useFakeTimers();
    let settled = false;
    void hungCollection()
      .createIndexes([])
      .finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(STORE_OPERATION_DEADLINE_MS * 3);
    expect(settled).toBe(false);
  });
});

describe('store failures at the gRPC edge', () => {
  it('a read the server stopped at its maxTimeMS is UNAVAILABLE, not INTERNAL', () => {
    const expired = new MongoServerError({
      message: 'operation exceeded time limit',
      code: 50,
      codeName: 'MaxTimeMSExpired',
    });
    const failure = toGrpcFailure(expired);
    expect(failure.code).toBe(status.UNAVAILABLE);
    expect(failure.details).toContain('time limit');
  });

  it('an unreachable store is UNAVAILABLE with its reason', () => {
    const unreachable = new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1');
    const failure = toGrpcFailure(unreachable);
    expect(failure.code).toBe(status.UNAVAILABLE);
    expect(failure.details).toBe('the store cannot be reached; try again later');
    expect(storeFailureForCaller(unreachable)?.reason).toBe(STORE_UNAVAILABLE);
  });

  it('any other server error stays INTERNAL', () => {
    const failure = toGrpcFailure(new MongoServerError({ message: 'bad', code: 2 }));
    expect(failure.code).toBe(status.INTERNAL);
  });
});
