import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * A partition assigner for co-partitioned topics (same key, same partitioner, same partition
 * count): partition i of every subscribed topic goes to the same member, so one member holds
 * everything about the keys of partition i. Members are taken in id order and partitions dealt
 * round-robin, as the stock round-robin assigner does per topic.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'ShoalCoPartitioned',
  version: 0,
  async assign({ members, topics }) {
    const memberIds = members.map((member) => member.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>();
    for (const topic of topics) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((metadata) => metadata.partitionId)
        .sort((a, b) => a - b);
      for (const partition of partitions) {
        const memberId = memberIds[partition % memberIds.length] as string;
        const mine = assignment.get(memberId) ?? {};
        (mine[topic] ??= []).push(partition);
        assignment.set(memberId, mine);
      }
    }
    return memberIds.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment.get(memberId) ?? {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'ShoalCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
