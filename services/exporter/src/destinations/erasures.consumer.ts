import { Injectable } from '@nestjs/common';
import {
  ProfileChangeSchema,
  exporterDeadLetterTopic,
  profileChangesTopic,
} from '@shoal/contracts';
import {
  type ConsumedRecord,
  type TopicHandler,
  TopicConsumer,
  decodeProtobuf,
} from '@shoal/platform';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import type { KafkaMessage } from 'kafkajs';
import { ErasureService } from './erasure.service';

/** The profile-changes topic as the exporter reads it: what it cannot decode goes to its own DLQ. */
const PROFILE_CHANGES = { ...profileChangesTopic, deadLetter: exporterDeadLetterTopic };
const ERASED_FIELD = ProfileChangeSchema.field.profileErased.number;

/**
 * Erasures, from every fact ingestion publishes: the exporter forgets what it keeps about an
 * erased profile before the offsets are committed, so a restart misses none (and applying one
 * again changes nothing).
 */
@Injectable()
@TopicConsumer({ topic: PROFILE_CHANGES, groupId: 'exporter-erasures' })
export class ErasuresConsumer implements TopicHandler<string | undefined> {
  constructor(private readonly erasure: ErasureService) {}

  /** The erased profile's id, or undefined for every other change. */
  decode(message: KafkaMessage): string | undefined {
    if (!holdsErasure(message)) return undefined;
    const change = decodeProtobuf(ProfileChangeSchema, message);
    return change.profileId || change.subjectId;
  }

  async handleBatch(records: readonly ConsumedRecord<string | undefined>[]): Promise<void> {
    await this.erasure.erase(records.flatMap((r) => (r.value ? [r.value] : [])));
  }
}

/**
 * Whether a change is an erasure, read from its top-level field tags alone: nearly every change is
 * an event, whose properties need not be decoded only to be skipped. A value that does not parse
 * is decoded whole, which refuses it.
 */
function holdsErasure(message: KafkaMessage): boolean {
  const value = message.value;
  if (!value || value.length === 0) return true;
  try {
    const reader = new BinaryReader(value);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === ERASED_FIELD) return true;
      reader.skip(wireType, field);
    }
    return false;
  } catch {
    return true;
  }
}
