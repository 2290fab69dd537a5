import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Binary,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { PACKAGE_DIR } from './layout';
import { startMongo } from './mongo';
import { freePort } from './ports';
import type { ManagedProcess } from './processes';

/** The library's H2 backend as it ships, which stores documents Java-serialised. */
const STOCK_SERVER = path.join(PACKAGE_DIR, 'mongo', 'test', 'StockH2Server.java');

/** One field of every BSON type the store takes from a driver, nested too. */
const EVERY_TYPE = {
  _id: 'every-type',
  double: new Double(1.5),
  string: 'grüße, 世界',
  empty: '',
  document: { plan: 'pro', nested: { depth: new Int32(2), tags: ['a', 'b'] } },
  array: [new Int32(1), 'two', { three: new Double(3) }, [new Int32(4)], null],
  binary: new Binary(Buffer.from([0, 1, 2, 254, 255])),
  uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'),
  objectId: new ObjectId('65a1b2c3d4e5f60718293a4b'),
  yes: true,
  no: false,
  date: new Date('2026-01-02T03:04:05.678Z'),
  nothing: null,
  regex: new BSONRegExp('^shoal', 'i'),
  int32: new Int32(-7),
  timestamp: new Timestamp({ t: 1_700_000_000, i: 3 }),
  int64: Long.fromString('9007199254740993'),
  decimal: Decimal128.fromString('1234.5678'),
  minKey: new MinKey(),
  maxKey: new MaxKey(),
  code: new Code('function () { return 1; }'),
};

const STOCK_DOCS = 300;

function profilesIn(client: MongoClient) {
  return client.db('documents').collection<ReturnType<typeof stockDoc>>('profiles');
}

function types(client: MongoClient) {
  return client.db('documents').collection<{ _id: string }>('types');
}

function stockDoc(i: number) {
  return {
    _id: `stock-${i}`,
    n: new Int32(i),
    traits: { plan: i % 2 === 0 ? 'pro' : 'free' },
    tags: [new Int32(i)],
  };
}

describe('documents in the local store', () => {
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
    // BSON wrappers instead of JS numbers and RegExps, so that an int32 coming back as a double shows
    const client = new MongoClient(store.endpoint, { promoteValues: false, bsonRegExp: true });
    clients.push(client);
    return { store, client };
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-store-documents-'));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close(true)));
    await Promise.all(running.map((store) => store.kill('SIGTERM')));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('come back with every BSON type as written, after a kill -9 and after a clean restart', async () => {
    const read = (client: MongoClient) => types(client).findOne({ _id: EVERY_TYPE._id });
    const first = await start('types');
    await types(first.client).insertOne(EVERY_TYPE);
    // what the store answers from memory, before any of it was written to and read from the file
    const answered = await read(first.client);
    expect(answered).toEqual(EVERY_TYPE);
    await first.store.kill('SIGKILL');

    const second = await start('types');
    expect(await read(second.client)).toStrictEqual(answered);
    await second.store.kill('SIGTERM');

    const third = await start('types');
    expect(await read(third.client)).toStrictEqual(answered);
  });

  it('of other databases stay when a database whose name begins theirs is dropped', async () => {
    const { store, client } = await start('drops');
    const names = ['shoal_s1', 'shoal_s10', 'shoal_s1x', 'shoal_s'];
    for (const name of names) {
      await client
        .db(name)
        .collection('profiles')
        .insertOne({ _id: 'a', name } as never);
      await client.db(name).collection('profiles').createIndex({ name: 1 });
      await client
        .db(name)
        .collection('status')
        .insertOne({ _id: 'b' } as never);
    }
    await client.db('shoal_s1').dropDatabase();
    const listed = await client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(listed.databases.map((d) => d.name)).not.toContain('shoal_s1');
    for (const name of names.slice(1)) {
      expect(await client.db(name).collection('profiles').find().toArray()).toEqual([
        { _id: 'a', name },
      ]);
      expect(Number(await client.db(name).collection('status').countDocuments())).toBe(1);
    }
    // the dropped database is empty when used again, and the others can be dropped in turn
    expect(Number(await client.db('shoal_s1').collection('profiles').countDocuments())).toBe(0);
    for (const name of names.slice(1)) await client.db(name).dropDatabase();
    // and none of it comes back from the file
    await store.kill('SIGKILL');
    const again = await start('drops');
    for (const name of names)
      expect(Number(await again.client.db(name).collection('profiles').countDocuments())).toBe(0);
  });

  it('written by the stock H2 backend are read, updated and read again', async () => {
    const stock = await start('stock', STOCK_SERVER);
    const expected = Array.from({ length: STOCK_DOCS }, (_, i) => stockDoc(i));
    await profilesIn(stock.client).insertMany(expected);
    await stock.store.kill('SIGTERM');

    const upgraded = await start('stock');
    const profiles = profilesIn(upgraded.client);
    expect(await profiles.find().sort({ n: 1 }).toArray()).toEqual(expected);
    // every third document changes: its page is written again, now in the new format
    for (let i = 0; i < STOCK_DOCS; i += 3) {
      await profiles.updateOne({ _id: `stock-${i}` }, { $set: { 'traits.plan': 'enterprise' } });
      expected[i] = { ...expected[i], traits: { plan: 'enterprise' } };
    }
    await upgraded.store.kill('SIGKILL');

    const again = await start('stock');
    const reread = profilesIn(again.client);
    expect(await reread.find().sort({ n: 1 }).toArray()).toEqual(expected);
  });
});
