import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicCatalogue } from './topics';

const doc = readFileSync(join(__dirname, '../../../docs/topics.md'), 'utf8');
/** The cells of each markdown table row, trimmed. */
const rows = doc
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );

describe('topic catalogue', () => {
  it('has unique names, and every dead-letter topic is in the catalogue', () => {
    const names = topicCatalogue.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const topic of topicCatalogue) {
      if (topic.deadLetter) expect(names).toContain(topic.deadLetter.name);
    }
  });

  it.each(topicCatalogue.map((t) => [t.name, t] as const))(
    'documents %s with its partitions',
    (name, topic) => {
      const row = rows.find((cells) => cells[0] === `\`${name}\``);
      expect(row?.[3]).toBe(String(topic.partitions));
      expect(row?.[5]).toBe(topic.cleanupPolicy);
    },
  );
});
