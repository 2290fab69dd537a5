import { InMemoryListMemberRepository } from '../../test/in-memory-list-members.repository';
import { listMemberRepositoryContract } from '../../test/list-members-repository.contract';

describe('the in-memory list-member repository keeps the repository contract', () => {
  listMemberRepositoryContract(async () => new InMemoryListMemberRepository());
});
