import 'reflect-metadata';
import { runMain } from '@shoal/platform';
import { segmentsService } from './service';

runMain(segmentsService);
