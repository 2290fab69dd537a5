import { TestScope, freshRepositories } from '@shoal/testing';
import { listMemberRepositoryContract } from '../../test/list-members-repository.contract';
import { MongoListMemberRepository } from './list-members.mongo-repository';

describe('the MongoDB list-member repository keeps the repository contract', () => {
  const scope = new TestScope();
  afterAll(() => scope.close());

  listMemberRepositoryContract(freshRepositories(scope, (db) => new MongoListMemberRepository(db)));
});
