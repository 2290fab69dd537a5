import { describeVariables, serviceConfigSchema } from '@shoal/platform';
import { markdownTableRows } from '@shoal/testing';
import { ingestionConfigSchema } from './service';

describe('README configuration of the ingestion service', () => {
  const rows = markdownTableRows('README.md');
  const platform = new Set(
    describeVariables(serviceConfigSchema({ service: 'any', grpcPort: 1, httpPort: 1 }, {})).map(
      (v) => v.variable,
    ),
  );
  const own = describeVariables(ingestionConfigSchema).filter((v) => !platform.has(v.variable));

  it('has variables of its own', () => {
    expect(own.length).toBeGreaterThan(0);
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
