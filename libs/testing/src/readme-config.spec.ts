import { markdownTableRows } from './markdown';
import { platformVariables } from './readme-config';

// The platform's variables are documented once in the README for every service; the platform
// cannot depend on this package, so the check lives here.
describe('README configuration table', () => {
  const rows = markdownTableRows('README.md');

  it.each(platformVariables().map((v) => [v.variable, v] as const))(
    'documents %s',
    (variable, row) => {
      const cells = rows.find((r) => r[0] === `\`${variable}\``);
      expect(cells?.[2]).toBe(row.description);
    },
  );
});
