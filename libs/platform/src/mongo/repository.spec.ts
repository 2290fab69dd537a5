import type { Collection, Db, Document } from 'mongodb';
import { MongoRepository } from './repository';

class Things extends MongoRepository<Document> {
  constructor(db: Db) {
    super(db, 'things');
  }
  other(name: string): Collection<Document> {
    return this.collectionOf(name);
  }
}

describe('MongoRepository', () => {
  it('wraps each other collection once, however often it is asked for', () => {
    const asked: string[] = [];
    const db = {
      collection: (name: string) => {
        asked.push(name);
        return { collectionName: name } as unknown as Collection<Document>;
      },
    } as unknown as Db;
    const things = new Things(db);
    const first = things.other('states_p0');
    expect(things.other('states_p0')).toBe(first);
    expect(things.other('states_p1')).not.toBe(first);
    expect(things.other('states_p1').collectionName).toBe('states_p1');
    expect(asked).toEqual(['things', 'states_p0', 'states_p1']);
  });
});
