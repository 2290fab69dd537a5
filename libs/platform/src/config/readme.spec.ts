import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeVariables, serviceConfigSchema } from './service-config';

const readme = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');
/** The cells of each markdown table row, unescaped and trimmed. */
const rows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim().replace(/\\\|/g, '|')),
  );

describe('README configuration table', () => {
  const variables = describeVariables(
    serviceConfigSchema({ service: 'any', grpcPort: 1, httpPort: 1 }, {}),
  );

  it.each(variables.map((v) => [v.variable, v] as const))('documents %s', (variable, row) => {
    const cells = rows.find((r) => r[0] === `\`${variable}\``);
    expect(cells?.[2]).toBe(row.description);
  });
});
