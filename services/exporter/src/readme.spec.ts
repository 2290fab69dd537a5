import { describeReadmeConfiguration } from '@shoal/testing';
import { exporterConfigSchema } from './service';

describeReadmeConfiguration('the exporter', exporterConfigSchema, {
  own: (variable) => variable.startsWith('EXPORTER_'),
});
