import type { Db, MongoClient } from 'mongodb';
import type { TestScope } from './test-scope';

/**
 * For running a repository contract suite on the real store: each call makes the repository
 * on a database of its own, with its indexes, so every test starts empty. The databases go
 * when the scope closes.
 */
export function freshRepositories<R extends { ensureIndexes(): Promise<void> }>(
  scope: TestScope,
  make: (db: Db) => R,
): () => Promise<R> {
  let client: MongoClient | undefined;
  let databases = 0;
  return async () => {
    client ??= await scope.mongo();
    // names of one width: the embedded store drops "x_1" by a prefix match that breaks "x_10"
    const repository = make(client.db(`t${scope.id}_repo_${String(++databases).padStart(5, '0')}`));
    await repository.ensureIndexes();
    return repository;
  };
}
