import { TestScope, freshRepositories } from '@shoal/testing';
import { churnRepositoryContract } from '../../test/churn-repository.contract';
import { MongoChurnRepository } from './churn.mongo-repository';

describe('the MongoDB churn repository keeps the repository contract', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  churnRepositoryContract(freshRepositories(scope, (db) => new MongoChurnRepository(db)));
});
