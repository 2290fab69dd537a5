import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { RecordError } from './records.errors';
import { boundedBatches, isRecordRefusal, publishSeparately } from './outbox-relay';

const tooLarge = () =>
  new KafkaJSProtocolError({
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
    message:
      'The request included a message larger than the max message size the server will accept',
  } as unknown as Error);

/** A broker that refuses any send holding a record above its limit, and records what it took. */
function broker(limit: number, fail?: (batch: readonly number[]) => Error | undefined) {
  const log: { published: number[][]; refused: number[]; sent: number[][] } = {
    published: [],
    refused: [],
    sent: [],
  };
  return {
    log,
    run: (items: number[], bounds = { maxRecords: 10, maxBytes: 1000 }) =>
      publishSeparately({
        items,
        sizeOf: (n) => n,
        bounds,
        send: async (batch) => {
          log.sent.push([...batch]);
          const failure = fail?.(batch);
          if (failure) throw failure;
          if (batch.some((n) => n > limit)) throw tooLarge();
        },
        published: async (batch) => {
          log.published.push([...batch]);
        },
        refused: async (item) => {
          log.refused.push(item);
        },
      }),
  };
}

describe('publishing an outbox so that no record holds back another', () => {
  it('batches by count and by bytes, an item above the byte bound alone', () => {
    const bounds = { maxRecords: 3, maxBytes: 100 };
    expect(boundedBatches([10, 10, 10, 10], (n) => n, bounds)).toEqual([[10, 10, 10], [10]]);
    expect(boundedBatches([60, 30, 20, 250, 5], (n) => n, bounds)).toEqual([
      [60, 30],
      [20],
      [250],
      [5],
    ]);
    expect(boundedBatches([], (n: number) => n, bounds)).toEqual([]);
  });

  it('publishes large records pending together in batches the broker takes', async () => {
    const b = broker(1000);
    await b.run([600, 600, 600, 600]);
    expect(b.log.sent).toEqual([[600], [600], [600], [600]]);
    expect(b.log.refused).toEqual([]);
  });

  it('sends a refused batch again record by record: the refused one is reported, the others published', async () => {
    const b = broker(50);
    await b.run([10, 80, 20, 30]);
    expect(b.log.refused).toEqual([80]);
    expect(b.log.published.flat().sort((x, y) => x - y)).toEqual([10, 20, 30]);
  });

  it('throws what is not a refusal of the records, after reporting what was published', async () => {
    const unavailable = new KafkaJSConnectionError('Connection error: ECONNREFUSED');
    const b = broker(1000, (batch) => (batch.includes(3) ? unavailable : undefined));
    await expect(b.run([1, 2, 3, 4], { maxRecords: 2, maxBytes: 1000 })).rejects.toBe(unavailable);
    expect(b.log.published).toEqual([[1, 2]]);
    expect(b.log.refused).toEqual([]);
  });

  it('tells refusals of a record from failures worth retrying', () => {
    expect(isRecordRefusal(tooLarge())).toBe(true);
    expect(isRecordRefusal(RecordError.tooLarge('t', 2_000_000, 1_048_576))).toBe(true);
    // kafkajs' retrier wraps what it gives up on, keeping the refusal as the cause
    const wrapped = Object.assign(new KafkaJSNonRetriableError(tooLarge()), { cause: tooLarge() });
    expect(isRecordRefusal(wrapped)).toBe(true);
    expect(isRecordRefusal(new KafkaJSConnectionError('Connection error'))).toBe(false);
    expect(
      isRecordRefusal(
        new KafkaJSProtocolError({
          type: 'TOPIC_AUTHORIZATION_FAILED',
          code: 29,
          retriable: false,
          message: 'Not authorized to access topics',
        } as unknown as Error),
      ),
    ).toBe(false);
    expect(isRecordRefusal(new Error('anything else'))).toBe(false);
  });
});
