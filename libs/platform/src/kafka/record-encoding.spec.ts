// kafkajs is patched (patches/kafkajs+2.2.4.patch, applied by npm's postinstall): a produced
// record is written into one buffer sized for it, instead of one per header and one per varint.
// These tests hold the patch to the bytes kafkajs wrote before it, and fail if it is not applied.
import fc from 'fast-check';

interface KafkajsEncoder {
  readonly buf: Buffer;
  readonly offset: number;
  readonly buffer: Buffer;
}
interface RecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, string | Buffer | (string | Buffer)[]>;
}
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no types */
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  record: Partial<RecordInput>,
) => KafkajsEncoder;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: unknown,
  context: object,
) => { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]> };
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => {
  readVarIntBytes(): Buffer;
  readVarInt(): number;
  readUVarInt(): number;
};
interface WritingEncoder extends KafkajsEncoder {
  writeArray(values: KafkajsEncoder[], type: 'object'): WritingEncoder;
  writeVarInt(value: number): WritingEncoder;
  writeUVarInt(value: number): WritingEncoder;
}
const Encoder = require('kafkajs/src/protocol/encoder') as new (
  initialSize?: number,
) => WritingEncoder;
/* eslint-enable @typescript-eslint/no-require-imports */

/** A record decoded the way a consumer reads it. */
function decoded(encoded: Buffer) {
  const body = new Decoder(encoded).readVarIntBytes();
  return decodeRecord(new Decoder(body), { firstOffset: '0', firstTimestamp: 0, magicByte: 2 });
}
const bytesOf = (value: Buffer | string | null) =>
  value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value);

describe('produced records (kafkajs patched)', () => {
  const cleanups: (() => void)[] = [];
  const afterThis = (cleanup: () => void) => cleanups.push(cleanup);
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  it('are the bytes kafkajs 2.2.4 wrote before the patch', () => {
    // written by the unpatched kafkajs 2.2.4
    const golden: [Partial<RecordInput>, string][] = [
      [
        {
          offsetDelta: 7,
          timestampDelta: 1234,
          key: Buffer.from('p000042'),
          value: Buffer.from([8, 1, 18, 3, 97, 98, 99]),
          headers: {
            'content-type': 'application/x-protobuf',
            ce_subject: 'p000042 — ü',
            multi: ['a', Buffer.from([0, 255])],
            ce_id: 'tr-1',
          },
        },
        'de0100a4130e0e703030303034320e080112036162630a18636f6e74656e742d747970652c6170706c69636174696f6e2f782d70726f746f6275661463655f7375626a6563741c7030303030343220e2809420c3bc0a6d756c746902610a6d756c74690400ff0a63655f69640874722d31',
      ],
      [{ offsetDelta: 0, timestampDelta: 0, key: null, value: null }, '0c000000010100'],
      [
        {
          offsetDelta: 300,
          timestampDelta: -5,
          key: 'string key',
          value: 'a string value é',
          headers: {},
        },
        '440009d80414737472696e67206b6579226120737472696e672076616c756520c3a900',
      ],
    ];
    for (const [record, hex] of golden)
      expect(encodeRecord(record).buffer.toString('hex')).toBe(hex);
  });

  it('read back as written, each from one buffer of its own', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
    const headerValue = fc.oneof(text, bytes);
    const allocations = jest.spyOn(Buffer, 'alloc');
    const copies = jest.spyOn(Buffer, 'from');
    afterThis(() => {
      allocations.mockRestore();
      copies.mockRestore();
    });
    fc.assert(
      fc.property(
        fc.record({
          offsetDelta: fc.nat({ max: 100_000 }),
          timestampDelta: fc.integer({ min: -1_000_000, max: 1_000_000_000 }),
          key: fc.oneof(fc.constant(null), text, bytes),
          value: fc.oneof(fc.constant(null), text, bytes),
          headers: fc.dictionary(
            // (kafkajs's decoder, not the encoder, trips over keys Object.prototype has)
            fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !(k in {})),
            fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })),
            { maxKeys: 12 },
          ),
        }),
        (record: RecordInput) => {
          allocations.mockClear();
          copies.mockClear();
          const encoder = encodeRecord(record);
          // one buffer for the record; one copy, the timestamp delta's
          expect(allocations).toHaveBeenCalledTimes(1);
          expect(copies.mock.calls.length).toBeLessThanOrEqual(1);
          expect(encoder.buf.length).toBeGreaterThanOrEqual(encoder.offset);
          const read = decoded(encoder.buffer);
          expect(read.key).toEqual(bytesOf(record.key));
          expect(read.value).toEqual(bytesOf(record.value));
          const expected = Object.fromEntries(
            Object.entries(record.headers).map(([k, v]) => [
              k,
              Array.isArray(v) ? (v.length === 1 ? bytesOf(v[0]!) : v.map(bytesOf)) : bytesOf(v),
            ]),
          );
          expect(read.headers).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('carry varints read back as written, however the buffer had to grow', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat()), {
          maxLength: 50,
        }),
        (values) => {
          const encoder = new Encoder(1);
          for (const [signed, unsigned] of values)
            encoder.writeVarInt(signed).writeUVarInt(unsigned);
          const decoder = new Decoder(encoder.buffer);
          for (const [signed, unsigned] of values) {
            expect(decoder.readVarInt()).toBe(signed);
            expect(decoder.readUVarInt()).toBe(unsigned);
          }
        },
      ),
    );
  });

  it('are gathered into a batch that grows once, not doubling per record', () => {
    const records = Array.from({ length: 500 }, (_, i) =>
      encodeRecord({ offsetDelta: i, key: `p${i}`, value: Buffer.alloc(100), headers: { a: 'b' } }),
    );
    const batch = new Encoder();
    const allocations = jest.spyOn(Buffer, 'alloc');
    afterThis(() => allocations.mockRestore());
    batch.writeArray(records, 'object');
    expect(allocations).toHaveBeenCalledTimes(1);
    expect(batch.offset).toBe(4 + records.reduce((sum, r) => sum + r.offset, 0));
  });
});
