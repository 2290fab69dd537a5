import { InMemorySegmentStatusRepository } from '../../test/in-memory-segment-status.repository';
import { segmentStatusRepositoryContract } from '../../test/segment-status-repository.contract';

describe('the in-memory segment-status repository keeps the repository contract', () => {
  segmentStatusRepositoryContract(async () => new InMemorySegmentStatusRepository());
});
