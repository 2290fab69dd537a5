import 'reflect-metadata';
import { runMain } from '@shoal/platform';
import { schedulerService } from './service';

runMain(schedulerService);
