import { InMemoryChurnRepository } from '../../test/in-memory-churn.repository';
import { churnRepositoryContract } from '../../test/churn-repository.contract';

describe('the in-memory churn repository keeps the repository contract', () => {
  churnRepositoryContract(async () => new InMemoryChurnRepository());
});
