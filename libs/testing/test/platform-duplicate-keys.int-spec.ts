// The platform's real-infrastructure tests live beside the harness they need (the platform
// itself cannot depend on @shoal/testing without a cycle).
import { duplicateKeyRefusals, isDuplicateKey } from '@shoal/platform';
import type { Db } from 'mongodb';
import { TestScope } from '../src';

describe('duplicate-key refusals', () => {
  const scope = new TestScope();
  let db: Db;

  beforeAll(async () => {
    db = (await scope.mongo()).db(`t${scope.id}_duplicates`);
  });
  afterAll(() => scope.close());

  const refusalOf = async (write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (error) {
      return error;
    }
    throw new Error('the write was not refused');
  };

  it('lists the documents that existed already, by their index in the write', async () => {
    const docs = db.collection<{ _id: string }>('claims');
    await docs.insertMany([{ _id: 'b' }, { _id: 'd' }]);
    const error = await refusalOf(() =>
      docs.insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }, { _id: 'd' }], {
        ordered: false,
      }),
    );
    expect(duplicateKeyRefusals(error)?.map((e) => e.index)).toEqual([1, 3]);
    expect(await docs.countDocuments()).toBe(4);
  });

  it('is undefined for a write refused for anything more than duplicate keys', async () => {
    const docs = db.collection<{ _id: string; n?: number }>('others');
    // a text where the update adds to a number: refused for a type mismatch, not a duplicate
    await docs.insertMany([{ _id: 'x' }, { _id: 'y', n: 'text' as never }]);
    const error = await refusalOf(() =>
      docs.bulkWrite(
        [
          { insertOne: { document: { _id: 'x' } } },
          { updateOne: { filter: { _id: 'y' }, update: { $inc: { n: 1 } } } },
        ],
        { ordered: false },
      ),
    );
    expect(duplicateKeyRefusals(error)).toBeUndefined();
    expect(duplicateKeyRefusals(new Error('connection lost'))).toBeUndefined();
  });

  it('of a single write: an insert or an upsert meeting a unique key, and nothing else', async () => {
    const docs = db.collection<{ _id: string; name?: string; n?: number }>('single');
    await docs.createIndex({ name: 1 }, { unique: true });
    await docs.insertOne({ _id: 'a', name: 'ann' });
    expect(isDuplicateKey(await refusalOf(() => docs.insertOne({ _id: 'a' })))).toBe(true);
    expect(
      isDuplicateKey(
        await refusalOf(() =>
          docs.updateOne({ _id: 'b' }, { $set: { name: 'ann' } }, { upsert: true }),
        ),
      ),
    ).toBe(true);
    await docs.insertOne({ _id: 'c', n: 'text' as never });
    expect(
      isDuplicateKey(await refusalOf(() => docs.updateOne({ _id: 'c' }, { $inc: { n: 1 } }))),
    ).toBe(false);
    expect(isDuplicateKey(new Error('connection lost'))).toBe(false);
  });
});
