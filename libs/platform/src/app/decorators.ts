import type { DescService } from '@bufbuild/protobuf';
import { SetMetadata } from '@nestjs/common';
import type { TopicSpec } from '@shoal/contracts';

export const GRPC_SERVICE = Symbol('shoal:grpc-service');
export const TOPIC_CONSUMER = Symbol('shoal:topic-consumer');

/**
 * Marks a provider as the handlers of a gRPC service. The class implements
 * `GrpcServiceHandlers<typeof TheService>`; the platform mounts it on the service's server.
 */
export const GrpcService = (service: DescService) => SetMetadata(GRPC_SERVICE, service);

export interface TopicConsumerOptions {
  readonly topic: TopicSpec;
  /** Consumer group id without the deployment prefix, e.g. "ingestion". */
  readonly groupId: string;
  readonly maxBatchSize?: number;
  readonly partitionsConsumedConcurrently?: number;
  /** The handler says when its effects are durable; offsets are committed then (write-behind). */
  readonly commitWhenDurable?: boolean;
}

/** Marks a provider implementing `TopicHandler<T>` as the consumer of a topic. */
export const TopicConsumer = (options: TopicConsumerOptions) =>
  SetMetadata(TOPIC_CONSUMER, options);
