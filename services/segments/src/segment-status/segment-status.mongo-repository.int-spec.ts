import { TestScope, freshRepositories } from '@shoal/testing';
import { segmentStatusRepositoryContract } from '../../test/segment-status-repository.contract';
import { MongoSegmentStatusRepository } from './segment-status.mongo-repository';

describe('the MongoDB segment-status repository keeps the repository contract', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  segmentStatusRepositoryContract(
    freshRepositories(scope, (db) => new MongoSegmentStatusRepository(db)),
  );
});
