import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient } from 'mongodb';
import { startMongo } from './mongo';
import { freePort } from './ports';
import type { ManagedProcess } from './processes';

interface Doc {
  _id: string;
  n: number;
  payload: string;
}

const INSERTS = 500;
const UPSERTS = 800;

describe('the local store', () => {
  let dir: string;
  const running: ManagedProcess[] = [];

  async function start(): Promise<{ store: ManagedProcess; client: MongoClient }> {
    const store = await startMongo({
      port: await freePort(),
      dataFile: path.join(dir, 'store.mv'),
      logFile: path.join(dir, 'store.log'),
    });
    running.push(store);
    return { store, client: new MongoClient(store.endpoint) };
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-store-durability-'));
  });

  afterAll(async () => {
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
});
