import { describeReadmeConfiguration } from '@shoal/testing';
import { membershipConfigSchema } from './service';

describeReadmeConfiguration('the membership service', membershipConfigSchema, {
  own: (variable) => variable.startsWith('MEMBERSHIP_'),
});
