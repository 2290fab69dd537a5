import type { Env, RunningService } from '@shoal/platform';
import { TestScope } from '@shoal/testing';
import { segmentsService } from '../src/service';
import { callers } from './segment-client';

export type Callers = Awaited<ReturnType<typeof callers>>;

/**
 * A segments service (with `env`) for the tests of one describe block: started before them,
 * after `prepare` if given, and stopped after them. `c` holds its clients once it runs.
 */
export function segmentsForTests(
  env: Env = {},
  prepare: (scope: TestScope) => Promise<void> = async () => undefined,
) {
  const scope = new TestScope();
  const running = { scope, c: {} as Callers, service: undefined as unknown as RunningService };
  beforeAll(async () => {
    await prepare(scope);
    running.service = await scope.start(segmentsService, env);
    Object.assign(running.c, await callers(scope, running.service));
  });
  afterAll(() => scope.close());
  return running;
}
