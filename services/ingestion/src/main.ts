import 'reflect-metadata';
import { runMain } from '@shoal/platform';
import { ingestionService } from './service';

runMain(ingestionService);
