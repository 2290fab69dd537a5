import { topicCatalogue } from '@shoal/contracts';
import { markdownTableRows } from './markdown';

describe('docs/topics.md', () => {
  const rows = markdownTableRows('docs/topics.md');

  it.each(topicCatalogue.map((t) => [t.name, t] as const))(
    'documents %s with its partitions and cleanup',
    (name, topic) => {
      const row = rows.find((cells) => cells[0] === `\`${name}\``);
      expect(row?.[3]).toBe(String(topic.partitions));
      expect(row?.[5]).toBe(topic.cleanupPolicy);
    },
  );
});
