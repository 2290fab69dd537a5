import 'reflect-metadata';
import { runMain } from '@shoal/platform';
import { exporterService } from './service';

runMain(exporterService);
