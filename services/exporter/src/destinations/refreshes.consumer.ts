import { Injectable } from '@nestjs/common';
import {
  type RefreshProgress,
  RefreshProgressSchema,
  exporterDeadLetterTopic,
  jobProgressTopic,
} from '@shoal/contracts';
import {
  type ConsumedRecord,
  type TopicHandler,
  TopicConsumer,
  decodeProtobuf,
} from '@shoal/platform';
import type { KafkaMessage } from 'kafkajs';
import { SyncDispatcher } from './sync.dispatcher';
import { SyncService } from './sync.service';

/** The job-progress topic as the exporter reads it: what it cannot decode goes to its own DLQ. */
const JOB_PROGRESS = { ...jobProgressTopic, deadLetter: exporterDeadLetterTopic };

/**
 * Refresh outcomes from membership: when a segment's refresh has succeeded in every partition,
 * each destination syncing it in full with auto-sync on gets a full sync.
 */
@Injectable()
@TopicConsumer({ topic: JOB_PROGRESS, groupId: 'exporter-refreshes' })
export class RefreshesConsumer implements TopicHandler<RefreshProgress> {
  constructor(
    private readonly sync: SyncService,
    private readonly dispatcher: SyncDispatcher,
  ) {}

  decode(message: KafkaMessage): RefreshProgress {
    return decodeProtobuf(RefreshProgressSchema, message);
  }

  async handleBatch(records: readonly ConsumedRecord<RefreshProgress>[]): Promise<void> {
    for (const { value } of records) {
      for (const destination of await this.sync.dueAfterRefresh(value))
        this.dispatcher.startFull(destination, value.segmentId);
    }
  }
}
