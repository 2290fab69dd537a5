import 'reflect-metadata';
import { runMain } from '@shoal/platform';
import { membershipService } from './service';

runMain(membershipService);
