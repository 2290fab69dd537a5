import { describeReadmeConfiguration } from '@shoal/testing';
import { consoleConfigSchema } from './service';

describeReadmeConfiguration('the console service', consoleConfigSchema, {
  own: (variable) => variable.startsWith('CONSOLE_'),
  atLeast: 11,
});
