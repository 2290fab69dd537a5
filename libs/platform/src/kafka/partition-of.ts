import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/** The metadata the partitioner is asked with, one per partition count (built once each). */
const metadataByCount = new Map<number, PartitionMetadata[]>();

function metadataOf(count: number): PartitionMetadata[] {
  let metadata = metadataByCount.get(count);
  if (metadata === undefined) {
    metadata = Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    metadataByCount.set(count, metadata);
  }
  return metadata;
}

/**
 * The partition a key lands in among `count` partitions, as Shoal's producers (and the Java
 * client) place it: murmur2 of the key.
 */
export function partitionOf(key: string, count: number): number {
  return partitioner({
    topic: '',
    partitionMetadata: metadataOf(count),
    message: { key, value: null },
  });
}
