import {
  InMemoryAccountRepository,
  InMemoryIdentityRepository,
  InMemoryProfileRepository,
} from '../../test/support/in-memory-repositories';
import { repositoryContract } from '../../test/support/repositories.contract';

describe('in-memory repositories', () => {
  repositoryContract(async () => ({
    profiles: new InMemoryProfileRepository(),
    identities: new InMemoryIdentityRepository(),
    accounts: new InMemoryAccountRepository(),
  }));
});
