import { z } from 'zod';
import {
  type PlatformConfig,
  type ServiceDefaults,
  platformConfigShape,
  refinePlatformConfig,
} from './platform-config';

/**
 * A service's complete configuration schema: the platform variables plus its own.
 * `describe()` on each variable is its documentation.
 */
export function serviceConfigSchema<Extra extends z.ZodRawShape>(
  defaults: ServiceDefaults,
  extra: Extra,
) {
  return z
    .object({ ...platformConfigShape(defaults), ...extra })
    .superRefine((config, ctx) => refinePlatformConfig(config as PlatformConfig, ctx), {
      // cross-field rules run even when single fields failed, so every problem is named at once
      when: () => true,
    });
}

export type ServiceConfigSchema = ReturnType<typeof serviceConfigSchema<z.ZodRawShape>>;

/** Each variable of a schema with its description and default, for docs. */
export function describeVariables(
  schema: z.ZodType,
): { variable: string; description: string; defaultValue?: string; required: boolean }[] {
  const object = unwrapObject(schema);
  return Object.entries(object.shape).map(([variable, field]) => {
    const type = field as z.ZodType;
    const parsedDefault = z.object({ v: type }).safeParse({});
    const defaultValue =
      parsedDefault.success && parsedDefault.data.v !== undefined
        ? String(parsedDefault.data.v)
        : undefined;
    return {
      variable,
      description: type.description ?? '',
      ...(defaultValue !== undefined ? { defaultValue } : {}),
      required: !type.safeParse(undefined).success,
    };
  });
}

function unwrapObject(schema: z.ZodType): z.ZodObject {
  if (schema instanceof z.ZodObject) return schema;
  const inner = (schema as unknown as { def?: { in?: z.ZodType; schema?: z.ZodType } }).def;
  const next = inner?.in ?? inner?.schema;
  if (!next) throw new Error('not an object schema');
  return unwrapObject(next);
}
