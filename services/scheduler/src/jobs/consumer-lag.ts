import type { Admin } from 'kafkajs';

/** How far one consumer group is behind one topic: summed, and its worst partition. */
export async function consumerLag(
  admin: Admin,
  group: string,
  topic: string,
): Promise<{ lag: number; maxPartitionLag: number }> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const done = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  let lag = 0;
  let maxPartitionLag = 0;
  for (const { partition, high, low } of ends) {
    const at = done.get(partition) ?? -1;
    const behind = Math.max(0, Number(high) - (at < 0 ? Number(low) : at));
    lag += behind;
    maxPartitionLag = Math.max(maxPartitionLag, behind);
  }
  return { lag, maxPartitionLag };
}
