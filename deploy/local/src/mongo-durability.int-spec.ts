import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyFailure } from '@shoal/platform';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { startMongo } from './mongo';
import { freePort } from './ports';
import type { LaunchedProcess, ManagedProcess } from './processes';

interface Doc {
  _id: string;
  n: number;
  payload: string;
}

const INSERTS = 500;
const UPSERTS = 800;
const WRITERS = 16;
const ACKNOWLEDGED_PER_ROUND = 1_000;
const KILLS = 3;
/** The data file's size limit in the test of a store that runs out of room. */
const FULL_FILE_BYTES = 2 * 1024 * 1024;

describe('the local store', () => {
  let dir: string;
  const running: ManagedProcess[] = [];
  // closed in afterAll too, so a failed expectation does not leave jest waiting on open sockets
  const clients: MongoClient[] = [];

  function connect(url: string, options: MongoClientOptions = {}): MongoClient {
    const client = new MongoClient(url, options);
    clients.push(client);
    return client;
  }

  async function start(
    dataFile = 'store.mv',
    maxFileBytes?: number,
  ): Promise<{ store: LaunchedProcess; client: MongoClient }> {
    const store = await startMongo({
      port: await freePort(),
      dataFile: path.join(dir, dataFile),
      logFile: path.join(dir, 'store.log'),
      ...(maxFileBytes !== undefined ? { maxFileBytes } : {}),
    });
    running.push(store);
    return { store, client: connect(store.endpoint) };
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-store-durability-'));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close(true)));
    await Promise.all(running.map((store) => store.kill('SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write through a kill -9', async () => {
    const first = await start();
    const docs = first.client.db('durability').collection<Doc>('docs');
    const expected: Doc[] = [];
    for (let i = 0; i < INSERTS; i++) {
      const doc = { _id: `insert-${String(i).padStart(4, '0')}`, n: i, payload: `inserted ${i}` };
      await docs.insertOne(doc);
      expected.push(doc);
    }
    const upserts = Array.from({ length: UPSERTS }, (_, i) => ({
      _id: `upsert-${String(i).padStart(4, '0')}`,
      n: i,
      payload: `upserted ${i}`,
    }));
    const result = await docs.bulkWrite(
      upserts.map(({ _id, ...fields }) => ({
        updateOne: { filter: { _id }, update: { $set: fields }, upsert: true },
      })),
      { ordered: true },
    );
    expect(result.upsertedCount).toBe(UPSERTS);
    expected.push(...upserts);

    await first.store.kill('SIGKILL');
    await first.client.close(true);

    const second = await start();
    const survivors = await second.client
      .db('durability')
      .collection<Doc>('docs')
      .find()
      .sort({ _id: 1 })
      .toArray();
    await second.client.close();
    expect(survivors).toHaveLength(INSERTS + UPSERTS);
    expect(survivors).toEqual(expected);
  });

  /** What the store has acknowledged: inserted ids, and the last value each counter was set to. */
  interface Acknowledged {
    inserted: Set<string>;
    counters: Map<string, number>;
  }

  /**
   * WRITERS clients insert documents and move their own counters forward, each waiting for one
   * acknowledgement before the next write, until the store is killed -9 in mid-stream.
   */
  async function writeUntilKilled(
    store: ManagedProcess,
    round: number,
    acknowledged: Acknowledged,
  ): Promise<void> {
    let killed = false;
    let failure: unknown;
    let insertedThisRound = 0;
    const writerClients = Array.from({ length: WRITERS }, () =>
      connect(store.endpoint, {
        maxPoolSize: 1,
        retryWrites: false,
        serverSelectionTimeoutMS: 2_000,
      }),
    );
    const writers = writerClients.map(async (client, writer) => {
      const docs = client.db('durability').collection<Doc>('concurrent');
      const counter = `counter-${round}-${writer}`;
      for (let n = 0; ; n++) {
        const _id = `round-${round}-writer-${writer}-${n}`;
        try {
          await docs.insertOne({ _id, n, payload: `written by ${writer}` });
          acknowledged.inserted.add(_id);
          insertedThisRound++;
          await docs.updateOne({ _id: counter }, { $set: { n } }, { upsert: true });
          acknowledged.counters.set(counter, n);
        } catch (error) {
          if (!killed) failure = error;
          return;
        }
      }
    });
    while (insertedThisRound < ACKNOWLEDGED_PER_ROUND && failure === undefined) await sleep(10);
    expect(failure).toBeUndefined();
    killed = true;
    await store.kill('SIGKILL');
    await Promise.all(writers);
    await Promise.all(writerClients.map((client) => client.close(true)));
  }

  async function expectStored(client: MongoClient, acknowledged: Acknowledged): Promise<void> {
    const stored = await client.db('durability').collection<Doc>('concurrent').find().toArray();
    const storedIds = new Set(stored.map((doc) => doc._id));
    expect([...acknowledged.inserted].filter((id) => !storedIds.has(id))).toEqual([]);
    const storedCounters = new Map(stored.map((doc) => [doc._id, doc.n]));
    const behind = [...acknowledged.counters].filter(
      ([counter, n]) => (storedCounters.get(counter) ?? -1) < n,
    );
    expect(behind).toEqual([]);
  }

  it('keeps every write acknowledged to concurrent writers through kill -9s in mid-stream', async () => {
    const acknowledged: Acknowledged = { inserted: new Set(), counters: new Map() };
    for (let round = 0; round < KILLS; round++) {
      const { store, client } = await start('concurrent.mv');
      await expectStored(client, acknowledged);
      await client.close();
      await writeUntilKilled(store, round, acknowledged);
    }
    const last = await start('concurrent.mv');
    await expectStored(last.client, acknowledged);
    await last.client.close();
    expect(acknowledged.inserted.size).toBeGreaterThanOrEqual(KILLS * ACKNOWLEDGED_PER_ROUND);
  });

  it('stops when it can no longer write, rather than answering errors, and keeps every write it acknowledged', async () => {
    // a file size limit stands for a full disk: the write past it fails with EFBIG
    const full = await start('full.mv', FULL_FILE_BYTES);
    const client = connect(full.store.endpoint, {
      retryWrites: false,
      serverSelectionTimeoutMS: 2_000,
    });
    const docs = client.db('durability').collection<Doc>('full');
    const acknowledged: string[] = [];
    let failure: unknown;
    // random payloads do not compress: the file outgrows its limit within a few hundred
    for (let n = 0; n < 2_000 && failure === undefined; n++) {
      const doc = { _id: `full-${n}`, n, payload: randomBytes(12_000).toString('base64') };
      try {
        await docs.insertOne(doc);
        acknowledged.push(doc._id);
      } catch (error) {
        failure = error;
      }
    }
    // an outage, which every consumer waits out, not a refusal it would dead-letter a record for
    expect(failure).toBeDefined();
    expect(classifyFailure(failure)).toBe('transient');
    expect(await full.store.exited).toBe('exit code 70');
    expect(fs.readFileSync(path.join(dir, 'store.log'), 'utf8')).toMatch(
      /ShoalMongoLauncher: .*File too large; stopping \(exit code 70\)/,
    );
    const later = await docs.insertOne({ _id: 'later', n: -1, payload: '' }).catch((e) => e);
    expect(classifyFailure(later)).toBe('transient');
    await client.close(true);

    const reopened = await start('full.mv');
    const stored = await reopened.client
      .db('durability')
      .collection<Doc>('full')
      .find({}, { projection: { _id: 1 } })
      .toArray();
    const storedIds = new Set(stored.map((doc) => doc._id));
    expect(acknowledged.length).toBeGreaterThan(10);
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
    await reopened.client.close();
  });
});
