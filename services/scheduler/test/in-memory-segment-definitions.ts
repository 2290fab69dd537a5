import { type MessageInitShape, create, fromJson } from '@bufbuild/protobuf';
import {
  type RefreshPolicy,
  RefreshMode,
  RuleSchema,
  type Segment,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';
import { DomainError, ErrorKind, canSee } from '@shoal/platform';
import type { OnBehalfOf, SegmentDefinitionsPort } from '../src/schedules/segment-definitions.port';

/**
 * The segments service as the scheduler reaches it, in memory: visibility as there (others'
 * private segments do not exist), only the owner edits, versions checked. `beforeNextSet`
 * stands for whatever happens there between a read and a change (another editor, a lock).
 */
export class InMemorySegmentDefinitions implements SegmentDefinitionsPort {
  readonly segments = new Map<string, Segment>();
  /** Every change made, in order: the segment, the refresh set, on whose behalf. */
  readonly changes: { segmentId: string; refresh: RefreshPolicy; authorization?: string }[] = [];
  beforeNextSet?: () => void;

  add(id: string, init: MessageInitShape<typeof SegmentSchema> = {}): Segment {
    const segment = create(SegmentSchema, {
      id,
      name: id,
      kind: SegmentKind.DYNAMIC,
      rule: fromJson(RuleSchema, { condition: { hasTag: 'vip' } }),
      status: SegmentStatus.ACTIVE,
      owner: 'ann',
      visibility: Visibility.PRIVATE,
      refresh: { mode: RefreshMode.SCHEDULED, cron: '0 9 * * *', timeZone: 'Europe/Paris' },
      version: 1n,
      ...init,
    } as MessageInitShape<typeof SegmentSchema>);
    this.segments.set(id, segment);
    return segment;
  }

  /** Someone else's change: a new version with `init` applied. */
  edit(id: string, init: MessageInitShape<typeof SegmentSchema>): void {
    const current = this.segments.get(id) as Segment;
    this.segments.set(
      id,
      create(SegmentSchema, { ...current, ...init, version: current.version + 1n } as never),
    );
  }

  async get(segmentId: string, { principal }: OnBehalfOf): Promise<Segment> {
    const segment = this.segments.get(segmentId);
    if (!segment || !canSee(segment, principal))
      throw new DomainError(
        ErrorKind.NotFound,
        'SEGMENT_NOT_FOUND',
        `segment ${segmentId} not found`,
      );
    return segment;
  }

  async setRefresh(
    { id, version }: { id: string; version: bigint },
    refresh: RefreshPolicy,
    caller: OnBehalfOf,
  ): Promise<Segment> {
    const before = this.beforeNextSet;
    this.beforeNextSet = undefined;
    before?.();
    const current = await this.get(id, caller);
    if (current.owner !== caller.principal.subject)
      throw new DomainError(
        ErrorKind.PermissionDenied,
        'SEGMENT_EDITORS_ONLY',
        'only the owner and the editors change it',
      );
    if (current.version !== version)
      throw new DomainError(
        ErrorKind.Aborted,
        'SEGMENT_VERSION_CONFLICT',
        `segment ${id} is at version ${current.version}, not ${version}`,
      );
    const updated = create(SegmentSchema, {
      ...current,
      refresh,
      version: current.version + 1n,
    } as never);
    this.segments.set(id, updated);
    this.changes.push({
      segmentId: id,
      refresh,
      ...(caller.authorization ? { authorization: caller.authorization } : {}),
    });
    return updated;
  }
}
