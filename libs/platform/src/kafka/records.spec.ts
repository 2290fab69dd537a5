import { ProfileChangeSchema } from '@shoal/contracts';
import type { KafkaMessage } from 'kafkajs';
import { decodeProtobuf } from './records';
import { RecordErrorCode } from './records.errors';

const record = (value: Buffer | null): KafkaMessage => ({
  key: null,
  value,
  timestamp: '0',
  attributes: 0,
  offset: '0',
  headers: {},
});

describe('decodeProtobuf', () => {
  it.each([
    ['a null value (tombstone)', null],
    ['a zero-length value', Buffer.alloc(0)],
  ])('refuses %s as EMPTY_VALUE, not as an empty message', (_, value) => {
    expect(() => decodeProtobuf(ProfileChangeSchema, record(value))).toThrow(
      expect.objectContaining({ reason: RecordErrorCode.EmptyValue }),
    );
  });

  it('refuses bytes that are no protobuf as UNDECODABLE', () => {
    expect(() =>
      decodeProtobuf(ProfileChangeSchema, record(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))),
    ).toThrow(expect.objectContaining({ reason: RecordErrorCode.Undecodable }));
  });
});
