import { z } from 'zod';

/** One bad or missing environment variable. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Thrown at start-up when configuration is invalid; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Environment variable parsers shared by every service's schema. */
export const env = {
  string: (description: string) => z.string().min(1).describe(description),
  optionalString: (description: string) => z.string().min(1).optional().describe(description),
  port: (fallback: number, description: string) =>
    z.coerce.number().int().min(0).max(65_535).default(fallback).describe(description),
  int: (fallback: number, description: string, min = 0) =>
    z.coerce.number().int().min(min).default(fallback).describe(description),
  optionalInt: (description: string, min = 1) =>
    z.coerce.number().int().min(min).optional().describe(description),
  bool: (fallback: boolean, description: string) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .describe(description),
  list: (description: string) =>
    z
      .string()
      .min(1)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1))
      .describe(description),
  /** A comma-separated list that may be unset (then undefined). */
  optionalList: (description: string) =>
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .optional()
      .describe(description),
  oneOf: <const T extends readonly [string, ...string[]]>(
    values: T,
    fallback: T[number],
    description: string,
  ) =>
    z
      .enum(values)
      .default(fallback as never)
      .describe(description),
};

/**
 * Validates the environment against a schema. Empty strings count as unset, so
 * `FOO=` in a compose file means "use the default".
 */
export function loadConfig<S extends z.ZodType>(schema: S, source: Env): z.output<S> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.length > 0 ? String(issue.path[0]) : '(configuration)',
      message: issue.message,
    })),
  );
}
