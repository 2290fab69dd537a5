import { describeVariables } from '@shoal/platform';
import { markdownTableRows } from '@shoal/testing';
import { schedulerConfigSchema } from './service';

describe('README configuration of the scheduler service', () => {
  const rows = markdownTableRows('README.md');
  const own = describeVariables(schedulerConfigSchema).filter((v) =>
    v.variable.startsWith('SCHEDULER_'),
  );

  it('has the scheduler’s variables to document', () => {
    expect(own.length).toBeGreaterThan(5);
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
