import { describeVariables, serviceConfigSchema } from '@shoal/platform';
import { markdownTableRows } from './markdown';

type ConfigSchema = Parameters<typeof describeVariables>[0];

/** The variables every service shares (the platform's), each with its description. */
export function platformVariables(): ReturnType<typeof describeVariables> {
  return describeVariables(serviceConfigSchema({ service: 'any', grpcPort: 1, httpPort: 1 }, {}));
}

export interface ReadmeConfigurationOptions {
  /** Which of the schema's variables are the service's own to document in its table. */
  readonly own: (variable: string) => boolean;
  /** How many own variables there are at least, so that a filter matching none fails; 1 by default. */
  readonly atLeast?: number;
}

/**
 * The README's configuration tables document each of a service's own variables with its
 * default (`—` when it has none) and its description exactly as its schema declares them.
 */
export function describeReadmeConfiguration(
  service: string,
  schema: ConfigSchema,
  { own, atLeast = 1 }: ReadmeConfigurationOptions,
): void {
  describe(`README configuration of ${service}`, () => {
    const rows = markdownTableRows('README.md');
    const variables = describeVariables(schema).filter((v) => own(v.variable));

    it(`has at least ${atLeast} of its own variables to document`, () => {
      expect(variables.length).toBeGreaterThanOrEqual(atLeast);
    });

    it.each(variables.map((v) => [v.variable, v] as const))(
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
}
