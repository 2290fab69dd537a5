import { KafkaHeaders } from '@shoal/contracts';
import type { KafkaMessage, Message } from 'kafkajs';
import { headersOf } from './records';

/** Why a record can never be processed, and where it came from. */
export interface DeadLetter {
  readonly message: KafkaMessage;
  /** The source topic's full name. */
  readonly topic: string;
  readonly partition: number;
  readonly reason: string;
  readonly error: string;
}

/**
 * A dead letter as it goes to a dead-letter topic: the original key, value and headers, plus
 * the reason and origin in shoal-dlq-* headers (docs/topics.md).
 */
export function deadLetterMessage(letter: DeadLetter, at: Date): Message {
  return {
    key: letter.message.key,
    value: letter.message.value,
    headers: {
      ...headersOf(letter.message.headers),
      [KafkaHeaders.deadLetterReason]: letter.reason,
      [KafkaHeaders.deadLetterError]: letter.error.slice(0, 2_000),
      [KafkaHeaders.deadLetterTopic]: letter.topic,
      [KafkaHeaders.deadLetterPartition]: String(letter.partition),
      [KafkaHeaders.deadLetterOffset]: letter.message.offset,
      [KafkaHeaders.deadLetterAt]: at.toISOString(),
    },
  };
}
