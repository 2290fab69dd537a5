import { InMemoryPartitionStore } from '../../test/support/in-memory-partition-store';
import { partitionStoreContract } from '../../test/support/partition-store.contract';

describe('the in-memory partition store', () => {
  partitionStoreContract(async () => new InMemoryPartitionStore());
});
