import { Partitioners } from 'kafkajs';
import { partitionOf } from './partition-of';

describe('partitionOf', () => {
  it('places every key where the producers place it, whatever partition counts were asked before', () => {
    const producers = Partitioners.DefaultPartitioner();
    const keys = Array.from({ length: 200 }, (_, i) => `user:u${i * 7919}`);
    for (const count of [6, 1, 12, 6, 3, 64, 12]) {
      const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (const key of keys) {
        const expected = producers({
          topic: 't',
          partitionMetadata,
          message: { key, value: null },
        });
        expect(partitionOf(key, count)).toBe(expected);
      }
    }
  });

  it('spreads keys over every partition', () => {
    const seen = new Set(Array.from({ length: 500 }, (_, i) => partitionOf(`k${i}`, 6)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
