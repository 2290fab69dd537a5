import { describeReadmeConfiguration } from '@shoal/testing';
import { segmentsConfigSchema } from './service';

describeReadmeConfiguration('the segments service', segmentsConfigSchema, {
  own: (variable) => /^(SEGMENT|RULE|STATIC_LIST)/.test(variable),
});
