import { InMemorySegmentRepository } from '../../test/in-memory-segments.repository';
import { segmentRepositoryContract } from '../../test/segments-repository.contract';

describe('the in-memory segment repository keeps the repository contract', () => {
  segmentRepositoryContract(async () => new InMemorySegmentRepository());
});
