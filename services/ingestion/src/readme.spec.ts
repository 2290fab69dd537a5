import { describeReadmeConfiguration, platformVariables } from '@shoal/testing';
import { ingestionConfigSchema } from './service';

const platform = new Set(platformVariables().map((v) => v.variable));

describeReadmeConfiguration('the ingestion service', ingestionConfigSchema, {
  own: (variable) => !platform.has(variable),
});
