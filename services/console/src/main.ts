import 'reflect-metadata';
import { runMain } from '@shoal/platform';
import { consoleService } from './service';

runMain(consoleService);
