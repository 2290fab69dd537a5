import { TestScope } from '@shoal/testing';
import { createHash } from 'node:crypto';
import { Binary, type Db, type MongoClient } from 'mongodb';
import { MongoAccountRepository } from '../src/accounts/accounts.mongo-repository';
import { MongoIdentityRepository } from '../src/profiles/identities.mongo-repository';
import { MongoProfileRepository } from '../src/profiles/profiles.mongo-repository';
import { messageHash } from '../src/profiles/working-set';
import { repositoryContract } from './support/repositories.contract';

describe('MongoDB repositories', () => {
  const scope = new TestScope();
  let client: MongoClient;
  let db: Db;
  let databases = 0;
  beforeAll(async () => {
    client = await scope.mongo();
  });
  afterAll(() => scope.close());

  describe('keep the repository contract', () => {
    repositoryContract(async () => {
      // fixed width: the embedded store's dropDatabase of "x_1" also hits "x_11"'s collections
      db = client.db(`t${scope.id}_ingestion_${String(databases++).padStart(3, '0')}`);
      return {
        profiles: new MongoProfileRepository(db),
        identities: new MongoIdentityRepository(db),
        accounts: new MongoAccountRepository(db),
      };
    });
  });

  it('reads profiles stored by the earlier layout, older than anything written since', async () => {
    const legacy = client.db(`t${scope.id}_ingestion_legacy`);
    await legacy.collection('profiles').insertOne({
      _id: 'user:old' as never,
      identities: [{ kind: 1, value: 'old' }],
      traits: { plan: 'free', address: { city: 'Oslo' } },
      accountIds: ['acme'],
      firstSeenAt: new Date('2025-01-01T00:00:00Z'),
      lastSeenAt: new Date('2025-02-01T00:00:00Z'),
    });
    const profiles = new MongoProfileRepository(legacy);
    const loaded = (await profiles.load(['user:old'])).get('user:old');
    expect(Object.fromEntries([...(loaded?.traits ?? [])].map(([k, e]) => [k, e]))).toEqual({
      plan: { t: 0, m: '', v: 'free' },
      address: { t: 0, m: '', v: { city: 'Oslo' } },
    });
    expect([...(loaded?.accounts.keys() ?? [])]).toEqual(['acme']);
    expect([...(loaded?.identities.keys() ?? [])]).toEqual(['user:old']);
  });

  it('recognises the message ids a stored profile remembers as the ids they were', async () => {
    const db = client.db(`t${scope.id}_ingestion_seen`);
    // 8 bytes of the id's SHA-256, partition 3, offset 100, arrival 1,000 s, not absorbed
    const entry = Buffer.alloc(21);
    createHash('sha256').update('m-1').digest().copy(entry, 0, 0, 8);
    entry.writeUInt16BE(3, 8);
    entry.writeUIntBE(100, 10, 6);
    entry.writeUInt32BE(1_000, 16);
    await db.collection('profiles').insertOne({
      _id: 'user:s' as never,
      fv: 2,
      seen: new Binary(entry),
    });
    const loaded = (await new MongoProfileRepository(db).load(['user:s'])).get('user:s');
    expect([...(loaded?.seen ?? [])]).toEqual([
      [messageHash('m-1'), { origin: '3:100', at: 1_000_000, absorbed: false }],
    ]);
  });
});
