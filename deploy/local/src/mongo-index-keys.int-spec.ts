import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Binary, Double, MongoClient, MongoServerError, ObjectId, UUID } from 'mongodb';
import { PACKAGE_DIR } from './layout';
import { startMongo } from './mongo';
import { freePort } from './ports';
import type { ManagedProcess } from './processes';

/** The library's H2 backend as it ships: index maps in the order ShoalMongoLauncher upgrades. */
const STOCK_SERVER = path.join(PACKAGE_DIR, 'mongo', 'test', 'StockH2Server.java');
const PROFILES = 2_000;
const LOOKUPS_AT_ONCE = 50;
const REBUILT = /rebuilt (\d+) index maps/g;

interface Profile {
  _id: string;
  email: string;
  segment: string;
  rank: number;
}

type TypedId =
  number | string | ObjectId | Date | boolean | { tenant: string; id: number } | Binary;

interface Typed {
  _id: TypedId;
  i: number;
}

/** _id values of every kind Shoal or a driver may send, each in its own document. */
const TYPED_IDS: TypedId[] = [
  7,
  2.5,
  5_000_000_000,
  -0.25,
  'text',
  '',
  new ObjectId('65a1b2c3d4e5f60718293a4b'),
  new Date('2026-01-02T03:04:05.678Z'),
  true,
  false,
  { tenant: 'acme', id: 7 },
  { tenant: 'acme', id: 8 },
  new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'),
  new Binary(Buffer.from([1, 2, 3])),
];

function profile(i: number): Profile {
  // scattered ids and emails, so inserts land all over the B-trees, not only at their ends
  const scattered = (i * 7_919) % PROFILES;
  return {
    _id: `profile-${String(scattered).padStart(5, '0')}`,
    email: `user-${(scattered * 31) % PROFILES}@example.com`,
    segment: `segment-${i % 7}`,
    rank: Math.floor(i / 7),
  };
}

const profiles = Array.from({ length: PROFILES }, (_, i) => profile(i));

async function writeFixtures(client: MongoClient): Promise<void> {
  const db = client.db('keys');
  await db.collection<Profile>('profiles').createIndexes([
    { key: { email: 1 }, name: 'email_unique', unique: true },
    { key: { segment: 1, rank: 1 }, name: 'segment_rank_unique', unique: true },
  ]);
  await db.collection<Profile>('profiles').insertMany(profiles);
  await db.collection<Typed>('typed').insertMany(TYPED_IDS.map((_id, i) => ({ _id, i })));
}

function duplicateKeyCode(error: unknown): number | undefined {
  return error instanceof MongoServerError ? Number(error.code) : undefined;
}

async function expectDuplicate(write: Promise<unknown>): Promise<void> {
  expect(await write.then(() => 'accepted', duplicateKeyCode)).toBe(11000);
}

/** Every document is found by each of its unique keys, and every unique key refuses a twin. */
async function expectIndexesWork(client: MongoClient): Promise<void> {
  const db = client.db('keys');
  const collection = db.collection<Profile>('profiles');
  for (let i = 0; i < profiles.length; i += LOOKUPS_AT_ONCE) {
    const batch = profiles.slice(i, i + LOOKUPS_AT_ONCE);
    const byId = await Promise.all(batch.map((doc) => collection.findOne({ _id: doc._id })));
    const byEmail = await Promise.all(batch.map((doc) => collection.findOne({ email: doc.email })));
    expect(byId).toEqual(batch);
    expect(byEmail).toEqual(batch);
  }
  expect(await collection.findOne({ _id: 'profile-missing' })).toBeNull();
  const [first] = profiles;
  await expectDuplicate(collection.insertOne({ ...first, email: 'new@example.com', rank: -1 }));
  await expectDuplicate(
    collection.insertOne({ _id: 'p-new', email: first.email, segment: 'segment-new', rank: -1 }),
  );
  await expectDuplicate(
    collection.insertOne({
      _id: 'p-new',
      email: 'new@example.com',
      segment: first.segment,
      rank: first.rank,
    }),
  );

  const typed = db.collection<Typed>('typed');
  for (const [i, _id] of TYPED_IDS.entries()) {
    expect(await typed.findOne({ _id })).toEqual({ _id, i });
    await expectDuplicate(typed.insertOne({ _id, i: -1 }));
  }
  // MongoDB compares numbers by value: the double 7.0 is the int 7
  const doubles = db.collection<{ _id: Double; i: number }>('typed');
  await expectDuplicate(doubles.insertOne({ _id: new Double(7), i: -1 }));
  expect(await typed.countDocuments()).toBe(TYPED_IDS.length);
}

describe('the local store’s unique indexes', () => {
  let dir: string;
  const running: ManagedProcess[] = [];
  const clients: MongoClient[] = [];

  async function start(
    name: string,
    launcher?: string,
  ): Promise<{ store: ManagedProcess; client: MongoClient }> {
    const store = await startMongo({
      port: await freePort(),
      dataFile: path.join(dir, `${name}.mv`),
      logFile: path.join(dir, `${name}.log`),
      launcher,
    });
    running.push(store);
    const client = new MongoClient(store.endpoint);
    clients.push(client);
    return { store, client };
  }

  function rebuildsLogged(name: string): string[] {
    const log = fs.readFileSync(path.join(dir, `${name}.log`), 'utf8');
    return [...log.matchAll(REBUILT)].map((match) => match[1]);
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-store-index-keys-'));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close(true)));
    await Promise.all(running.map((store) => store.kill('SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds every document by _id and unique keys after a restart, and refuses duplicates', async () => {
    const first = await start('fresh');
    await writeFixtures(first.client);
    await expectIndexesWork(first.client);
    await first.store.kill('SIGTERM');

    const second = await start('fresh');
    await expectIndexesWork(second.client);
    expect(rebuildsLogged('fresh')).toEqual([]);
  });

  it('rebuilds the index maps of a file from before once, then finds and refuses as before', async () => {
    const stock = await start('stock', STOCK_SERVER);
    await writeFixtures(stock.client);
    await expectIndexesWork(stock.client);
    await stock.store.kill('SIGTERM');

    const upgraded = await start('stock');
    await expectIndexesWork(upgraded.client);
    // _id_ of both collections, email_unique and segment_rank_unique
    expect(rebuildsLogged('stock')).toEqual(['4']);
    await upgraded.store.kill('SIGTERM');

    const again = await start('stock');
    await expectIndexesWork(again.client);
    expect(rebuildsLogged('stock')).toEqual(['4']);
  });
});
