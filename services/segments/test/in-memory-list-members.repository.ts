import type {
  CommittedState,
  KeyedIds,
  ListChange,
  ListHead,
  ListMemberRepositoryPort,
  ListVersion,
  ListWriter,
} from '../src/static-lists/list-members.repository.port';

/** A write the store refused because the simulated process has crashed. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The list-member store in memory, with the same compare-and-set semantics as the MongoDB
 * repository, for unit tests of the chunking and write protocol. Every stored document counts
 * as one write, so `crashAfter(n)` can stop the "process" between any two writes, even inside
 * a batch; `beforeWrite` lets a test interleave writers.
 */
export class InMemoryListMemberRepository implements ListMemberRepositoryPort {
  private readonly heads = new Map<string, Mutable<ListHead>>();
  private readonly chunkDocs = new Map<string, readonly string[]>();
  private readonly partDocs = new Map<string, readonly string[]>();
  private writesLeft = Infinity;
  /** Documents written so far. */
  writes = 0;
  beforeWrite: (() => Promise<void>) | undefined;

  /** Lets `n` more document writes through, then fails every write until `recover()`. */
  crashAfter(n: number): void {
    this.writesLeft = n;
  }

  recover(): void {
    this.writesLeft = Infinity;
  }

  /** Stored chunk keys and part keys of a list, sorted. */
  stored(listId: string): { chunks: string[]; parts: string[] } {
    const keysOf = (docs: Map<string, unknown>) =>
      [...docs.keys()]
        .filter((id) => id.startsWith(`${listId}/`))
        .map((id) => id.slice(listId.length + 1))
        .sort();
    return { chunks: keysOf(this.chunkDocs), parts: keysOf(this.partDocs) };
  }

  async head(listId: string): Promise<ListHead | undefined> {
    const head = this.heads.get(listId);
    return head ? structuredClone(head) : undefined;
  }

  async chunks(listId: string, keys: readonly string[]): Promise<Map<string, readonly string[]>> {
    const found = new Map<string, readonly string[]>();
    for (const key of keys) {
      const ids = this.chunkDocs.get(`${listId}/${key}`);
      if (ids) found.set(key, [...ids]);
    }
    return found;
  }

  async claim(listId: string, seen: ListVersion, writer: ListWriter): Promise<boolean> {
    await this.write();
    const head = this.heads.get(listId);
    if (!head) {
      if (seen.epoch !== 0 || seen.seq !== 0) return false;
      this.heads.set(listId, {
        listId,
        epoch: writer.epoch,
        seq: 0,
        count: 0,
        chunks: [],
        garbage: [],
        writer: { ...writer },
        outbox: [],
      });
      return true;
    }
    if (head.epoch !== seen.epoch || head.seq !== seen.seq) return false;
    head.epoch = writer.epoch;
    head.writer = { ...writer };
    return true;
  }

  async hold(listId: string, epoch: number, untilMs: number): Promise<boolean> {
    await this.write();
    const head = this.heads.get(listId);
    if (head?.writer?.epoch !== epoch) return false;
    head.writer = { ...head.writer, untilMs };
    return true;
  }

  async commit(
    listId: string,
    epoch: number,
    state: CommittedState,
    change: ListChange,
  ): Promise<boolean> {
    await this.write();
    const head = this.heads.get(listId);
    if (head?.writer?.epoch !== epoch) return false;
    Object.assign(head, structuredClone(state));
    head.writer = undefined;
    head.outbox = [...head.outbox, { ...change }];
    return true;
  }

  async writeChunks(listId: string, chunks: readonly KeyedIds[]): Promise<void> {
    for (const { key, ids } of chunks) {
      await this.write();
      this.chunkDocs.set(`${listId}/${key}`, [...ids]);
    }
  }

  async deleteChunks(listId: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await this.write();
      this.chunkDocs.delete(`${listId}/${key}`);
    }
  }

  async writeParts(listId: string, parts: readonly KeyedIds[]): Promise<void> {
    for (const { key, ids } of parts) {
      await this.write();
      this.partDocs.set(`${listId}/${key}`, [...ids]);
    }
  }

  async deleteParts(listId: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await this.write();
      this.partDocs.delete(`${listId}/${key}`);
    }
  }

  async part(listId: string, key: string): Promise<readonly string[] | undefined> {
    const ids = this.partDocs.get(`${listId}/${key}`);
    return ids ? [...ids] : undefined;
  }

  async unpublished(limit: number): Promise<{ listId: string; change: ListChange }[]> {
    return [...this.heads.values()]
      .filter((head) => head.outbox.length > 0)
      .slice(0, limit)
      .map((head) => ({
        listId: head.listId,
        change: { ...head.outbox.reduce((a, b) => (b.seq < a.seq ? b : a)) },
      }));
  }

  async sent(listId: string, seq: number, sent: number): Promise<void> {
    await this.write();
    const head = this.heads.get(listId);
    if (head) head.outbox = head.outbox.map((c) => (c.seq === seq ? { ...c, sent } : c));
  }

  async published(listId: string, seq: number): Promise<void> {
    await this.write();
    const head = this.heads.get(listId);
    if (head) head.outbox = head.outbox.filter((c) => c.seq !== seq);
  }

  private async write(): Promise<void> {
    await this.beforeWrite?.();
    if (this.writesLeft <= 0) throw new SimulatedCrash();
    this.writesLeft--;
    this.writes++;
  }
}
