import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { startMongo } from './mongo';
import { freePort } from './ports';
import type { ManagedProcess } from './processes';

const FIELDS = 40;
const RUN_MS = 4_000;

interface Hot {
  _id: string;
  v: number;
  nested: { a: number; deep: { b: number } };
  [field: string]: unknown;
}

/** f0 … f39, each `v`. */
function fieldsOf(v: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: FIELDS }, (_, i) => [`f${i}`, v]));
}

/** A document whose every value is `v`: a read that mixes two writes shows at once. */
function hot(v: number): Hot {
  return { _id: 'hot', v, ...fieldsOf(v), nested: { a: v, deep: { b: v } } };
}

function versionsIn(doc: Hot | null): Set<unknown> {
  if (!doc) return new Set(['missing']);
  const values = Array.from({ length: FIELDS }, (_, i) => doc[`f${i}`]);
  return new Set([doc.v, ...values, doc.nested?.a, doc.nested?.deep?.b]);
}

describe('the local store under concurrent writes and reads of one document', () => {
  let dir: string;
  let store: ManagedProcess;
  let client: MongoClient;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-store-concurrency-'));
    store = await startMongo({
      port: await freePort(),
      dataFile: path.join(dir, 'hot.mv'),
      logFile: path.join(dir, 'hot.log'),
    });
    client = new MongoClient(store.endpoint, { maxPoolSize: 16 });
  });

  afterAll(async () => {
    await client?.close(true);
    await store?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never answers a read with half of a write, nor fails a commit, while the document changes', async () => {
    const docs = client.db('concurrency').collection<Hot>('docs');
    await docs.insertOne(hot(0));
    const until = Date.now() + RUN_MS;
    const torn: unknown[][] = [];
    let written = 0;
    let read = 0;

    const writer = async (lane: number) => {
      for (let i = 1; Date.now() < until; i++) {
        const v = i * 10 + lane;
        const set = { v, ...fieldsOf(v), 'nested.a': v, 'nested.deep.b': v };
        // one lane through findAndModify, which finds and changes documents its own way
        if (lane === 3) await docs.findOneAndUpdate({ _id: 'hot' }, { $set: set });
        else await docs.updateOne({ _id: 'hot' }, { $set: set });
        written++;
      }
    };
    const reader = async () => {
      while (Date.now() < until) {
        const versions = versionsIn(await docs.findOne({ _id: 'hot' }));
        read++;
        if (versions.size !== 1) torn.push([...versions]);
      }
    };
    await Promise.all([writer(1), writer(2), writer(3), reader(), reader(), reader()]);

    expect(torn.slice(0, 3)).toEqual([]);
    expect(written).toBeGreaterThan(0);
    expect(read).toBeGreaterThan(0);
    // every write was committed: none of them failed, and the store logged no failure
    expect(fs.readFileSync(path.join(dir, 'hot.log'), 'utf8')).not.toMatch(
      /ERROR|ConcurrentModification/,
    );
    // and the last one is what a restart after kill -9 reads
    const last = await docs.findOne({ _id: 'hot' });
    expect(versionsIn(last).size).toBe(1);
    await store.kill('SIGKILL');
    store = await startMongo({
      port: await freePort(),
      dataFile: path.join(dir, 'hot.mv'),
      logFile: path.join(dir, 'hot-2.log'),
    });
    await client.close(true);
    client = new MongoClient(store.endpoint);
    expect(await client.db('concurrency').collection<Hot>('docs').findOne({ _id: 'hot' })).toEqual(
      last,
    );
  });
});
