import { Partitioners } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition a key lands in among `count` partitions, as Shoal's producers (and the Java
 * client) place it: murmur2 of the key.
 */
export function partitionOf(key: string, count: number): number {
  return partitioner({
    topic: '',
    partitionMetadata: Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    })),
    message: { key, value: null },
  });
}
