import { describeVariables } from '@shoal/platform';
import { markdownTableRows } from '@shoal/testing';
import { consoleConfigSchema } from './service';

describe('README configuration of the console service', () => {
  const rows = markdownTableRows('README.md');
  const own = describeVariables(consoleConfigSchema).filter((v) =>
    v.variable.startsWith('CONSOLE_'),
  );

  it('has the console’s variables to document', () => {
    expect(own.length).toBeGreaterThan(10);
  });

  it.each(own.map((v) => [v.variable, v] as const))(
    'documents %s with its default',
    (variable, row) => {
      const cells = rows.find((r) => r[0] === `\`${variable}\``);
      expect(cells?.slice(1)).toEqual([
        row.defaultValue ? `\`${row.defaultValue}\`` : '—',
        row.description,
      ]);
    },
  );
});
