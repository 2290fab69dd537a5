import type { JsonValue } from '@bufbuild/protobuf';
import type { DestinationConfig } from '@shoal/contracts';
import type { FieldViolation } from '@shoal/platform';

/** One record a destination receives. `eventId` is stable: a re-send carries the same one. */
export interface SyncRecord {
  /** The membership transition's id (incremental), or "<run id>:<profile id>" (full sync). */
  readonly eventId: string;
  readonly type: 'entered' | 'exited' | 'member';
  readonly segmentId: string;
  readonly profileId: string;
  /** ISO-8601. When membership changed, or when a full sync read the member. */
  readonly occurredAt: string;
  /** The (profile, segment) pair's transition sequence; absent in full syncs. */
  readonly sequence?: string;
  /**
   * The profile's user ids and `email` identifier-trait values, read from ingestion when the
   * record is delivered (empty for a profile that no longer exists).
   */
  readonly identities?: { readonly userIds: readonly string[]; readonly emails: readonly string[] };
  /** The link's selected traits by dotted path; one the profile lacks is absent. */
  readonly traits?: Readonly<Record<string, JsonValue>>;
}

/** What one delivery carries. */
export interface DeliveryBatch {
  readonly destinationId: string;
  readonly segmentId: string;
  readonly runId: string;
  readonly full: boolean;
  readonly records: readonly SyncRecord[];
}

/**
 * Why a delivery attempt failed. `retryAfterMs` is the receiver's own wish (HTTP 429 / 503 with
 * Retry-After); `permanent` failures are not retried (e.g. HTTP 400: the same batch will
 * always be refused).
 */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly options: { readonly retryAfterMs?: number; readonly permanent?: boolean } = {},
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

/** Where a full sync's snapshot goes. */
export interface SnapshotTarget {
  readonly destinationId: string;
  readonly segmentId: string;
  readonly runId: string;
}

/** One full sync written as a whole: records in pages, then committed (or aborted). */
export interface SnapshotWriter {
  write(records: readonly SyncRecord[]): Promise<void>;
  /** Makes the snapshot visible, whole. */
  commit(): Promise<void>;
  /** Removes what was written; the previous snapshot stays as it was. */
  abort(): Promise<void>;
}

type KindCase = NonNullable<DestinationConfig['kind']['case']>;
export type KindConfig<K extends KindCase> = Extract<
  DestinationConfig['kind'],
  { case: K }
>['value'];

/**
 * A kind of destination: everything the exporter needs to know about it, in one file per kind
 * (webhook.destination.ts). Adding a kind = a new `oneof kind` case in DestinationConfig
 * (export.proto), a new file implementing this, and its entry in DESTINATION_KINDS; nothing
 * else in the service changes.
 */
export interface DestinationKind<K extends KindCase = KindCase> {
  readonly kind: K;
  /** Whether it takes incremental (entered / exited) batches; otherwise only full syncs. */
  readonly incremental: boolean;
  /**
   * Problems with a configuration being saved, at paths under `config.<kind>`. `stored` is the
   * configuration saved before (on update), so a secret left empty can be kept.
   */
  validate(config: KindConfig<K>, stored: KindConfig<K> | undefined): FieldViolation[];
  /**
   * Checks on save that need the network (a webhook's host resolved and its addresses
   * checked), after `validate` found nothing wrong.
   */
  validateTarget?(config: KindConfig<K>): Promise<FieldViolation[]>;
  /** The configuration to store: defaults applied, secrets kept from `stored` when not given. */
  normalised(config: KindConfig<K>, stored: KindConfig<K> | undefined): KindConfig<K>;
  /** The configuration as reads show it: every secret removed (and said whether it is set). */
  redacted(config: KindConfig<K>): KindConfig<K>;
  /** Secret values in a configuration, for the logger to mask wherever they appear. */
  secrets(config: KindConfig<K>): string[];
  /** Records per delivery. */
  batchSize(config: KindConfig<K>): number;
  /** Attempts per batch before it is dead-lettered. */
  maxAttempts(config: KindConfig<K>): number;
  /**
   * For kinds that take a full sync as one whole (a file): opens the snapshot its pages are
   * written to. Kinds without it get a full sync as batches through `deliver`.
   */
  openSnapshot?(config: KindConfig<K>, target: SnapshotTarget): Promise<SnapshotWriter>;
  /** One attempt; throws DeliveryFailure (or any error: retried) when it did not land. */
  deliver(config: KindConfig<K>, batch: DeliveryBatch, signal: AbortSignal): Promise<void>;
  /** Releases what the kind keeps open between deliveries (connections); called at shutdown. */
  close?(): Promise<void>;
}
