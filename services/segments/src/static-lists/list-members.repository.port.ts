import type { ChunkRef } from './member-chunks';

/** A committed member change not yet fully published (the list's outbox, in change order). */
export interface ListChange {
  /** The list's change number: every committed change of a list gets the next one. */
  readonly seq: number;
  /** The attempt that wrote the change's parts (their keys are `${epoch}.${index}`). */
  readonly epoch: number;
  /** How many parts hold the changed ids, and how many of them are published. */
  readonly parts: number;
  readonly sent: number;
  readonly member: boolean;
  readonly changedAtMs: number;
  readonly changedBy: string;
}

/** A write attempt in progress: it holds the list until `untilMs`, and owns what it wrote so far. */
export interface ListWriter {
  readonly epoch: number;
  readonly untilMs: number;
  /** Chunks `${epoch}.0` … and parts `${epoch}.0` … it writes; removed if it never commits. */
  readonly chunks: number;
  readonly parts: number;
}

/** A list's head document: the chunk map, counters, a writer in progress and the outbox. */
export interface ListHead {
  readonly listId: string;
  /** Increases with every write attempt; fences attempts that lost the list from each other. */
  readonly epoch: number;
  /** The last committed change number. */
  readonly seq: number;
  readonly count: number;
  readonly chunks: readonly ChunkRef[];
  /** Chunks the last commit replaced; deleted after it (again by the next writer, after a crash). */
  readonly garbage: readonly string[];
  readonly writer?: ListWriter | undefined;
  readonly outbox: readonly ListChange[];
}

/** What a claim compares: the head's attempt and change counters as last read. */
export interface ListVersion {
  readonly epoch: number;
  readonly seq: number;
}

export interface CommittedState {
  readonly seq: number;
  readonly count: number;
  readonly chunks: readonly ChunkRef[];
  readonly garbage: readonly string[];
}

/** Sorted member ids stored under a key of one list (a chunk, or a part of a change). */
export interface KeyedIds {
  readonly key: string;
  readonly ids: readonly string[];
}

export const LIST_MEMBER_REPOSITORY = Symbol('ListMemberRepository');

/**
 * Storage of static-list members: one head document per list, chunk documents and change-part
 * documents, all read and written by `_id` only. Every write is a single-document operation;
 * `claim`, `hold` and `commit` are compare-and-set on the head.
 */
export interface ListMemberRepositoryPort {
  head(listId: string): Promise<ListHead | undefined>;
  /** The chunks found (a chunk replaced and deleted since the head was read is absent). */
  chunks(listId: string, keys: readonly string[]): Promise<Map<string, readonly string[]>>;
  /**
   * Takes the list for `writer` if no attempt claimed it and no change committed since `seen`
   * was read (creates the head if absent).
   */
  claim(listId: string, seen: ListVersion, writer: ListWriter): Promise<boolean>;
  /** Moves the end of the writer's hold; false when another attempt took the list. */
  hold(listId: string, epoch: number, untilMs: number): Promise<boolean>;
  /** Makes the writer's change visible and queues it for publication; false when it lost the list. */
  commit(
    listId: string,
    epoch: number,
    state: CommittedState,
    change: ListChange,
  ): Promise<boolean>;
  writeChunks(listId: string, chunks: readonly KeyedIds[]): Promise<void>;
  deleteChunks(listId: string, keys: readonly string[]): Promise<void>;
  writeParts(listId: string, parts: readonly KeyedIds[]): Promise<void>;
  deleteParts(listId: string, keys: readonly string[]): Promise<void>;
  part(listId: string, key: string): Promise<readonly string[] | undefined>;
  /** The oldest unpublished change of up to `limit` lists. */
  unpublished(limit: number): Promise<{ listId: string; change: ListChange }[]>;
  /** Records that the first `sent` parts of a change are published. */
  sent(listId: string, seq: number, sent: number): Promise<void>;
  /** Drops a fully published change from the outbox. */
  published(listId: string, seq: number): Promise<void>;
}
