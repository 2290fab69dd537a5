import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './infrastructure';

/** The cells of every markdown table row in a repository file, unescaped and trimmed. */
export function markdownTableRows(file: string): string[][] {
  return readFileSync(join(repoRoot, file), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
}
