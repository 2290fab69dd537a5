import { type DescMessage, type MessageShape, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ContentTypes, KafkaHeaders } from '@shoal/contracts';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { RecordError } from './records.errors';

/** A record as the consumer delivers it to a handler: decoded value plus where it came from. */
export interface ConsumedRecord<T> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  readonly headers: Readonly<Record<string, string>>;
  /** The broker/producer timestamp of the record. */
  readonly timestamp: Date;
}

export function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null) out[name] = first.toString();
  }
  return out;
}

/** Decodes a binary protobuf record value; undecodable values are permanent failures. */
export function decodeProtobuf<D extends DescMessage>(
  schema: D,
  message: KafkaMessage,
): MessageShape<D> {
  // zero bytes would decode as an all-default message: no producer of Shoal sends one
  if (!message.value || message.value.length === 0) throw RecordError.emptyValue();
  try {
    return fromBinary(schema, message.value);
  } catch (error) {
    throw RecordError.undecodable(schema.typeName, (error as Error).message);
  }
}

export function encodeProtobuf<D extends DescMessage>(schema: D, value: MessageShape<D>): Buffer {
  return Buffer.from(toBinary(schema, value));
}

export const protobufHeaders = { [KafkaHeaders.contentType]: ContentTypes.protobuf };
