import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { FileFormat, type FileDestination } from '@shoal/contracts';
import type { Clock, FieldViolation } from '@shoal/platform';
import { stringify } from 'csv-stringify/sync';
import { neutralised } from '../csv/csv-columns';
import {
  DeliveryFailure,
  type DestinationKind,
  type SnapshotTarget,
  type SnapshotWriter,
  type SyncRecord,
} from './destination-kind';

/** CSV columns; user ids and emails joined by "|", the link's traits as one JSON object. */
const CSV_HEADER = [
  'event_id',
  'type',
  'segment_id',
  'profile_id',
  'occurred_at',
  'user_ids',
  'emails',
  'traits',
];

/**
 * File destinations: every full sync of a linked segment becomes one file in the destination's
 * directory, `<segment id>-<UTC time>-<run id>.csv` (or `.ndjson`), written under a hidden
 * temporary name and renamed when complete, so whoever picks files up never reads half of one.
 * Directories must lie inside EXPORTER_FILE_ROOT; without it, file destinations are refused.
 */
export class FileDestinationKind implements DestinationKind<'file'> {
  readonly kind = 'file' as const;
  readonly incremental = false;

  constructor(
    private readonly root: string | undefined,
    private readonly clock: Clock,
  ) {}

  validate(config: FileDestination): FieldViolation[] {
    const field = 'config.file.directory';
    if (!this.root)
      return [{ field, description: 'file destinations are off: EXPORTER_FILE_ROOT is not set' }];
    if (!isAbsolute(config.directory)) return [{ field, description: 'must be an absolute path' }];
    const inside = relative(resolve(this.root), resolve(config.directory));
    if (inside.startsWith('..') || isAbsolute(inside))
      return [{ field, description: `must be inside ${this.root}` }];
    return [];
  }

  normalised(config: FileDestination) {
    return {
      ...config,
      directory: resolve(config.directory),
      format: config.format === FileFormat.UNSPECIFIED ? FileFormat.CSV : config.format,
    };
  }

  redacted(config: FileDestination) {
    return config;
  }

  secrets(): string[] {
    return [];
  }

  batchSize(): number {
    return 1000;
  }

  maxAttempts(): number {
    return 1;
  }

  async deliver(): Promise<void> {
    throw new DeliveryFailure('file destinations take full syncs only', { permanent: true });
  }

  async openSnapshot(config: FileDestination, target: SnapshotTarget): Promise<SnapshotWriter> {
    const ndjson = config.format === FileFormat.NDJSON;
    const stamp = this.clock.now().toISOString().replace(/[:.]/g, '-');
    const name = `${target.segmentId}-${stamp}-${target.runId}.${ndjson ? 'ndjson' : 'csv'}`;
    const final = join(config.directory, name);
    const temporary = join(config.directory, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    await mkdir(config.directory, { recursive: true });
    const file: FileHandle = await open(temporary, 'wx');
    if (!ndjson) await file.write(stringify([CSV_HEADER], { record_delimiter: 'windows' }));
    const text = (records: readonly SyncRecord[]) =>
      ndjson
        ? records.map((r) => `${JSON.stringify(r)}\n`).join('')
        : stringify(
            records.map((r) =>
              [
                r.eventId,
                r.type,
                r.segmentId,
                r.profileId,
                r.occurredAt,
                (r.identities?.userIds ?? []).join('|'),
                (r.identities?.emails ?? []).join('|'),
                JSON.stringify(r.traits ?? {}),
              ].map(neutralised),
            ),
            { record_delimiter: 'windows' },
          );
    return {
      write: async (records) => {
        if (records.length > 0) await file.write(text(records));
      },
      commit: async () => {
        await file.sync();
        await file.close();
        await rename(temporary, final);
      },
      abort: async () => {
        await file.close().catch(() => undefined);
        await rm(temporary, { force: true });
      },
    };
  }
}
