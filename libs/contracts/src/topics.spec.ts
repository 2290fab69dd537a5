import { topicCatalogue } from './topics';

describe('topic catalogue', () => {
  it('has unique names, and every dead-letter topic is in the catalogue', () => {
    const names = topicCatalogue.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const topic of topicCatalogue) {
      if (topic.deadLetter) expect(names).toContain(topic.deadLetter.name);
    }
  });

  it('keys and describes every topic', () => {
    for (const topic of topicCatalogue) {
      expect(topic.key).not.toBe('');
      expect(topic.description).not.toBe('');
      expect(topic.partitions).toBeGreaterThan(0);
    }
  });
});
