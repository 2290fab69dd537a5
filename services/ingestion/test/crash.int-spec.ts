import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IdentityKind,
  type ProfileChange,
  ProfileService,
  upstreamEventsTopic,
} from '@shoal/contracts';
import {
  type LaunchedProcess,
  TestScope,
  eventually,
  freePort,
  repoRoot,
  startServiceProcess,
} from '@shoal/testing';
import { createGrpcClient } from '@shoal/platform';
import type { Message } from 'kafkajs';
import { ChangeFeed } from './support/change-feed';

const PEOPLE = 60;
const CHUNKS = 12;

/**
 * The upstream records of the run, in production order: per person, anonymous page views and
 * tracks (keyed by the anonymous id), an identify with both ids (keyed by the user id) that links
 * them, then tracks, identifies with a trait whose newest value is known, and a group call.
 */
function workload(): { messages: Message[]; events: string[]; plans: Map<string, string> } {
  const messages: Message[] = [];
  const events: string[] = [];
  const plans = new Map<string, string>();
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 0, minute)).toISOString();
  for (let step = 0; step < 20; step++) {
    for (let i = 0; i < PEOPLE; i++) {
      const messageId = `c-${i}-${step}`;
      const anonymousId = `dev-${i}`;
      const userId = `u-${i}`;
      const timestamp = at(step);
      let event: Record<string, unknown>;
      if (step < 4) {
        event =
          step % 2 === 0
            ? { type: 'page', anonymousId, name: `Page ${step}` }
            : { type: 'track', anonymousId, event: 'Browsed' };
        events.push(messageId);
      } else if (step === 4) {
        event = { type: 'identify', userId, anonymousId, traits: { plan: 'trial' } };
      } else if (step % 5 === 0) {
        // an identify arriving out of order: its timestamp is older than the newest one
        const plan = `plan-${step}`;
        const older = step === 15;
        event = {
          type: 'identify',
          userId,
          traits: { plan },
          timestamp: older ? at(1) : timestamp,
        };
        if (!older) plans.set(`user:${userId}`, plan);
        messages.push({ key: userId, value: JSON.stringify({ ...event, messageId }) });
        continue;
      } else if (step === 7) {
        event = { type: 'group', userId, groupId: `acct-${i % 7}`, traits: { size: i % 7 } };
      } else {
        event = { type: 'track', userId, event: 'Bought', properties: { step } };
        events.push(messageId);
      }
      const key = (event.userId ?? anonymousId) as string;
      messages.push({ key, value: JSON.stringify({ timestamp, ...event, messageId }) });
    }
  }
  return { messages, events, plans };
}

/** What a change is about, without its id: a replay must give it the same id. */
function logicalKey(change: ProfileChange): string {
  const c = change.change;
  const detail =
    c.case === 'identityAdded'
      ? `${c.value.identity?.kind}:${c.value.identity?.value}`
      : c.case === 'accountJoined' || c.case === 'accountLeft'
        ? change.accountId
        : '';
  return `${change.sourceId}|${change.subjectId}|${c.case}|${detail}`;
}

/** The newest modification time of the files under `dir`, skipping dependencies and output. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

describe('ingestion killed (-9) mid-stream and restarted', () => {
  const scope = new TestScope();
  const logs = mkdtempSync(join(tmpdir(), 'shoal-crash-'));
  let feed: ChangeFeed | undefined;
  let running: LaunchedProcess | undefined;
  let ports = { grpcPort: 0, httpPort: 0 };
  const env = scope.env('ingestion', {
    INGEST_CHECKPOINT_INTERVAL_MS: '250',
    KAFKA_PARTITIONS: '2',
  });
  let starts = 0;
  const start = async () => {
    ports = { grpcPort: await freePort(), httpPort: await freePort() };
    running = await startServiceProcess({
      name: 'ingestion',
      env,
      ...ports,
      logFile: join(logs, `ingestion-${++starts}.log`),
    });
  };
  const recorded = (messageIds: readonly string[]) => {
    const seen = new Set(feed?.changes.map((c) => c.sourceId));
    return messageIds.filter((id) => seen.has(id)).length;
  };

  beforeAll(async () => {
    const built = statSync(join(repoRoot, 'services/ingestion/dist/main.js')).mtimeMs;
    if (built < newest(join(repoRoot, 'services/ingestion/src')))
      throw new Error('services/ingestion/dist is older than its sources: run npm run build first');
  });
  afterAll(async () => {
    await running?.kill('SIGKILL');
    await feed?.stop();
    await scope.close();
    rmSync(logs, { recursive: true, force: true });
  });

  it('publishes every input’s changes, and every change published again keeps its id', async () => {
    const { messages, events, plans } = workload();
    const chunk = Math.ceil(messages.length / CHUNKS);
    const chunks = Array.from({ length: CHUNKS }, (_, n) =>
      messages.slice(n * chunk, (n + 1) * chunk),
    );
    const eventsOf = (n: number) =>
      chunks
        .slice(0, n)
        .flat()
        .map((m) => JSON.parse(String(m.value)) as { messageId: string })
        .map((e) => e.messageId)
        .filter((id) => events.includes(id));

    await start();
    // the service created the topics
    const changes = await new ChangeFeed(scope).start();
    feed = changes;
    for (const part of chunks.slice(0, 4)) await scope.produce(upstreamEventsTopic, part);
    await eventually(() => expect(recorded(eventsOf(2))).toBe(eventsOf(2).length), 60_000);
    await running?.kill('SIGKILL');

    // records keep coming while it is down
    for (const part of chunks.slice(4, 8)) await scope.produce(upstreamEventsTopic, part);
    await start();
    await eventually(() => expect(recorded(eventsOf(5))).toBeGreaterThan(0), 120_000);
    // and it dies again while catching up
    await running?.kill('SIGKILL');
    await start();
    for (const part of chunks.slice(8)) await scope.produce(upstreamEventsTopic, part);

    await eventually(() => expect(recorded(events)).toBe(events.length), 180_000);

    // every change published more than once carries the id it had the first time
    const ids = new Map<string, Set<string>>();
    for (const change of changes.changes) {
      const key = logicalKey(change);
      ids.set(key, (ids.get(key) ?? new Set()).add(change.id));
    }
    expect([...ids].filter(([, set]) => set.size > 1)).toEqual([]);
    const published = changes.changes.length;
    const distinct = new Set(changes.changes.map((c) => c.id)).size;
    process.stdout.write(
      `crash test: ${published} changes published, ${published - distinct} of them again\n`,
    );

    const token = await scope.token({ subject: 'service:membership', service: 'membership' });
    const profiles = createGrpcClient(ProfileService, {
      address: `127.0.0.1:${ports.grpcPort}`,
      token: () => token,
      deadlineMs: 10_000,
    });
    try {
      for (let i = 0; i < PEOPLE; i++) {
        const { profile } = await profiles.lookupProfile({
          identity: { kind: IdentityKind.ANONYMOUS_ID, value: `dev-${i}` },
        });
        expect({ i, id: profile?.id, plan: profile?.traits?.plan }).toEqual({
          i,
          id: `user:u-${i}`,
          plan: plans.get(`user:u-${i}`),
        });
        expect(profile?.accountIds).toEqual([`acct-${i % 7}`]);
      }
    } finally {
      profiles.close();
    }
  }, 600_000);
});
