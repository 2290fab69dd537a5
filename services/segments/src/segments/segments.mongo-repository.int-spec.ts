import { TestScope, freshRepositories } from '@shoal/testing';
import { segmentRepositoryContract } from '../../test/segments-repository.contract';
import { MongoSegmentRepository } from './segments.mongo-repository';

describe('the MongoDB segment repository keeps the repository contract', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  segmentRepositoryContract(freshRepositories(scope, (db) => new MongoSegmentRepository(db)));
});
