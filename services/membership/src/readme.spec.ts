import { describeVariables } from '@shoal/platform';
import { markdownTableRows } from '@shoal/testing';
import { membershipConfigSchema } from './service';

describe('README configuration of the membership service', () => {
  const rows = markdownTableRows('README.md');
  const own = describeVariables(membershipConfigSchema).filter((v) =>
    v.variable.startsWith('MEMBERSHIP_'),
  );

  it.each(own.map((v) => [v.variable, v] as const))(
    'documents %s with its default',
    (variable, row) => {
      const cells = rows.find((r) => r[0] === `\`${variable}\``);
      expect(cells?.slice(1)).toEqual([`\`${row.defaultValue}\``, row.description]);
    },
  );
});
