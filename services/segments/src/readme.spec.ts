import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeVariables } from '@shoal/platform';
import { segmentsConfigSchema } from './service';

const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
const rows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );

describe('README configuration of the segments service', () => {
  const own = describeVariables(segmentsConfigSchema).filter((v) =>
    /^(SEGMENT|RULE|STATIC_LIST)/.test(v.variable),
  );

  it.each(own.map((v) => [v.variable, v] as const))(
    'documents %s with its default',
    (variable, row) => {
      const cells = rows.find((r) => r[0] === `\`${variable}\``);
      expect(cells?.slice(1)).toEqual([`\`${row.defaultValue}\``, row.description]);
    },
  );
});
