import type { ServiceStatus, StartableServiceName } from '@shoal/local-infra';
import { ServiceSupervisor, type SupervisedServices } from './service-supervisor';

/** Local services whose processes the test ends and whose starts it makes fail. */
function services(names: readonly StartableServiceName[]) {
  const running = new Set<StartableServiceName>(names);
  let failStarts = 0;
  const ups: number[] = [];
  const fake: SupervisedServices = {
    status: async () =>
      names.map(
        (name) => ({ name, running: running.has(name), ready: running.has(name) }) as ServiceStatus,
      ),
    up: async () => {
      ups.push(ups.length + 1);
      if (failStarts > 0) {
        failStarts -= 1;
        throw new Error('the membership service did not become ready\nlog tail…');
      }
      const started = names.filter((name) => !running.has(name));
      for (const name of started) running.add(name);
      return started;
    },
  };
  return {
    fake,
    ups,
    exit: (name: StartableServiceName) => running.delete(name),
    failNextStarts: (n: number) => (failStarts = n),
  };
}

function supervisorOf(fake: SupervisedServices) {
  let now = 0;
  const lines: string[] = [];
  const supervisor = new ServiceSupervisor({
    services: fake,
    env: {},
    clock: { now: () => new Date(now) },
    log: (line) => lines.push(line),
    backoff: { initialMs: 2_000, maxMs: 60_000 },
    random: () => 1,
  });
  return { supervisor, lines, advance: (ms: number) => (now += ms) };
}

describe('ServiceSupervisor', () => {
  it('leaves running services alone and says nothing', async () => {
    const { fake, ups } = services(['ingestion', 'membership']);
    const { supervisor } = supervisorOf(fake);
    await supervisor.check();
    expect(ups).toEqual([]);
    expect(supervisor.summary()).toEqual([]);
  });

  it('starts a service whose process exited again and says so in its summary', async () => {
    const { fake, ups, exit } = services(['ingestion', 'membership']);
    const { supervisor, advance } = supervisorOf(fake);
    exit('membership');
    await supervisor.check();
    advance(5_000);
    expect(ups).toHaveLength(1);
    expect(supervisor.summary()).toEqual([
      'supervisor: membership exited, restarted 1× (last 5 s ago)',
    ]);
  });

  it('backs off while the starts keep failing, then restarts once one succeeds', async () => {
    const { fake, ups, exit, failNextStarts } = services(['membership']);
    const { supervisor, advance } = supervisorOf(fake);
    exit('membership');
    failNextStarts(2);

    await supervisor.check();
    expect(ups).toHaveLength(1);
    expect(supervisor.summary()).toEqual([
      'supervisor: membership exited, not restarted yet; 1 failed start(s), next in 2 s: the membership service did not become ready',
    ]);
    advance(1_000);
    await supervisor.check();
    expect(ups).toHaveLength(1);

    advance(1_000);
    await supervisor.check();
    expect(ups).toHaveLength(2);
    advance(3_999);
    await supervisor.check();
    expect(ups).toHaveLength(2);
    advance(1);
    await supervisor.check();
    expect(ups).toHaveLength(3);
    expect(supervisor.summary()).toEqual([
      'supervisor: membership exited, restarted 1× (last 0 s ago)',
    ]);
  });
});
