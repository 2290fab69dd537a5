import { TestScope } from '@shoal/testing';
import { MongoPartitionStore } from '../src/partitions/partition-store.mongo-repository';
import { partitionStoreContract } from './support/partition-store.contract';

describe('the MongoDB partition store', () => {
  const scope = new TestScope();
  let databases = 0;
  afterAll(() => scope.close());

  partitionStoreContract(async () => {
    databases += 1;
    const client = await scope.mongo();
    return new MongoPartitionStore(client.db(`t${scope.id}_store${databases}`));
  });
});
