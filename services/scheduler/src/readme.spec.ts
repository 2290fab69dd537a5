import { describeReadmeConfiguration } from '@shoal/testing';
import { schedulerConfigSchema } from './service';

describeReadmeConfiguration('the scheduler service', schedulerConfigSchema, {
  own: (variable) => variable.startsWith('SCHEDULER_'),
  atLeast: 6,
});
