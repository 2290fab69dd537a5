import type { InfraComponent, ServiceStatus, StartableServiceName } from '@shoal/local-infra';
import {
  ServiceSupervisor,
  type SupervisedInfra,
  type SupervisedServices,
} from './service-supervisor';

/** Local services whose processes the test ends or hangs, and whose starts it makes fail. */
function services(names: readonly StartableServiceName[]) {
  const running = new Set<StartableServiceName>(names);
  const hung = new Set<StartableServiceName>();
  let failStarts = 0;
  const ups: number[] = [];
  const stops: StartableServiceName[] = [];
  const fake: SupervisedServices = {
    status: async () =>
      names.map((name) => {
        const alive = running.has(name) && !hung.has(name);
        return {
          name,
          running: running.has(name),
          ready: alive,
          alive,
          ...(running.has(name) && !alive ? { health: 'no answer to /healthz within 3 s' } : {}),
        } as ServiceStatus;
      }),
    stop: async (name) => {
      stops.push(name);
      running.delete(name);
      hung.delete(name);
    },
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
    stops,
    exit: (name: StartableServiceName) => running.delete(name),
    hang: (name: StartableServiceName) => hung.add(name),
    recover: (name: StartableServiceName) => hung.delete(name),
    failNextStarts: (n: number) => (failStarts = n),
  };
}

/** The broker and store: the test ends their processes and makes their starts fail. */
function infra() {
  const running = new Set<InfraComponent>(['kafka', 'mongo']);
  let failStarts = 0;
  const ups: InfraComponent[][] = [];
  const fake: SupervisedInfra = {
    processes: () =>
      (['kafka', 'mongo'] as const).map((component) => ({
        component,
        running: running.has(component),
      })),
    up: async () => {
      const started = (['kafka', 'mongo'] as const).filter((c) => !running.has(c));
      ups.push(started);
      if (failStarts > 0) {
        failStarts -= 1;
        throw new Error('mongo exited while starting (exit code 70), see mongo.log\ntail…');
      }
      for (const name of started) running.add(name);
      return { started };
    },
  };
  return {
    fake,
    ups,
    exit: (name: InfraComponent) => running.delete(name),
    failNextStarts: (n: number) => (failStarts = n),
  };
}

function supervisorOf(fake: SupervisedServices, infra?: SupervisedInfra) {
  let now = 0;
  const lines: string[] = [];
  const supervisor = new ServiceSupervisor({
    services: fake,
    ...(infra ? { infra } : {}),
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

  it('stops and starts again a service failing its liveness probe 3 times, 10 s apart', async () => {
    const { fake, ups, stops, hang } = services(['ingestion', 'membership']);
    const { supervisor, advance, lines } = supervisorOf(fake);
    hang('membership');
    // checked every second: one failure counts per 10 s
    for (let second = 0; second <= 19; second++) {
      await supervisor.check();
      advance(1_000);
    }
    expect([stops, ups]).toEqual([[], []]);
    await supervisor.check();
    expect(stops).toEqual(['membership']);
    expect(ups).toHaveLength(1);
    expect(lines).toContain(
      'supervisor: membership failed its liveness probe 3 times (no answer to /healthz within 3 s); stopping it',
    );
    expect(supervisor.summary()).toEqual([
      'supervisor: membership unresponsive, restarted 1× (last 0 s ago)',
    ]);
  });

  it('forgets failed probes once the service answers again', async () => {
    const { fake, stops, hang, recover } = services(['membership']);
    const { supervisor, advance } = supervisorOf(fake);
    hang('membership');
    await supervisor.check();
    advance(10_000);
    await supervisor.check();
    recover('membership');
    advance(10_000);
    await supervisor.check();
    hang('membership');
    for (let i = 0; i < 2; i++) {
      advance(10_000);
      await supervisor.check();
    }
    expect(stops).toEqual([]);
    advance(10_000);
    await supervisor.check();
    expect(stops).toEqual(['membership']);
  });

  it('starts the store again when its process exited, before the services, and says so', async () => {
    const svc = services(['ingestion', 'membership']);
    const store = infra();
    const { supervisor, lines } = supervisorOf(svc.fake, store.fake);
    await supervisor.check();
    expect(store.ups).toEqual([]);

    store.exit('mongo');
    svc.exit('membership');
    await supervisor.check();

    expect(store.ups).toEqual([['mongo']]);
    expect(svc.ups).toHaveLength(1);
    expect(lines.slice(0, 2)).toEqual([
      'supervisor: mongo not running; starting again',
      'supervisor: mongo restarted (1×)',
    ]);
    expect(supervisor.summary()).toEqual([
      'supervisor: mongo exited, restarted 1× (last 0 s ago)',
      'supervisor: membership exited, restarted 1× (last 0 s ago)',
    ]);
  });

  it('backs off from a store that keeps failing to start, and says why', async () => {
    const store = infra();
    const { supervisor, lines, advance } = supervisorOf(services(['ingestion']).fake, store.fake);
    store.exit('mongo');
    store.failNextStarts(2);

    await supervisor.check();
    expect(lines.at(-1)).toBe(
      'supervisor: mongo did not start (mongo exited while starting (exit code 70), see mongo.log); next attempt in 2 s',
    );
    advance(1_000);
    await supervisor.check();
    expect(store.ups).toHaveLength(1);
    advance(1_000);
    await supervisor.check();
    expect(store.ups).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/next attempt in 4 s$/);
    advance(4_000);
    await supervisor.check();
    expect(store.ups).toHaveLength(3);
    expect(supervisor.summary()).toEqual(['supervisor: mongo exited, restarted 1× (last 0 s ago)']);
  });

  it('makes a process that keeps exiting soon after its restart wait longer each time', async () => {
    const store = infra();
    const { supervisor, lines, advance } = supervisorOf(services(['ingestion']).fake, store.fake);
    store.exit('mongo');
    await supervisor.check();
    expect(lines.at(-1)).toBe('supervisor: mongo restarted (1×)');
    // it starts, then stops again at once (a full disk): restarted, but the next waits 2 s, then 4 s
    advance(3_000);
    store.exit('mongo');
    await supervisor.check();
    expect(lines.at(-1)).toBe(
      'supervisor: mongo restarted (2×); it exited within 60 s of its last restart, so the next waits 2 s',
    );
    advance(1_000);
    store.exit('mongo');
    await supervisor.check();
    expect(store.ups).toHaveLength(2);
    advance(1_000);
    await supervisor.check();
    expect(store.ups).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/restarted \(3×\); .* the next waits 4 s$/);
    expect(supervisor.summary()).toEqual([
      'supervisor: mongo exited, restarted 3× (last 0 s ago); it keeps exiting soon after a restart, the next waits 4 s',
    ]);
    // up for a minute: recovered, the next exit is restarted at once
    advance(60_000);
    store.exit('mongo');
    await supervisor.check();
    expect(store.ups).toHaveLength(4);
    expect(lines.at(-1)).toBe('supervisor: mongo restarted (4×)');
  });

  it('says a service restarted for being unresponsive exited when its process next exits', async () => {
    const { fake, hang, exit } = services(['membership']);
    const { supervisor, advance } = supervisorOf(fake);
    hang('membership');
    for (let i = 0; i < 3; i++) {
      await supervisor.check();
      advance(10_000);
    }
    advance(60_000); // up long enough to count as recovered
    exit('membership');
    await supervisor.check();
    expect(supervisor.summary()).toEqual([
      'supervisor: membership exited, restarted 2× (last 0 s ago)',
    ]);
  });
});
