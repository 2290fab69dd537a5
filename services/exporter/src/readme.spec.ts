import { describeVariables } from '@shoal/platform';
import { markdownTableRows } from '@shoal/testing';
import { exporterConfigSchema } from './service';

describe('README configuration of the exporter', () => {
  const rows = markdownTableRows('README.md');
  const own = describeVariables(exporterConfigSchema).filter((v) =>
    v.variable.startsWith('EXPORTER_'),
  );

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
