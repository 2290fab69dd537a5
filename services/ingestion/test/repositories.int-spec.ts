import { TestScope } from '@shoal/testing';
import type { Db, MongoClient } from 'mongodb';
import { MongoAccountRepository } from '../src/accounts/accounts.mongo-repository';
import { MongoIdentityRepository } from '../src/profiles/identities.mongo-repository';
import { MongoProfileRepository } from '../src/profiles/profiles.mongo-repository';
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
});
