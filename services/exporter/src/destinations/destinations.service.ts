import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import {
  type Destination,
  type DestinationConfig,
  DestinationConfigSchema,
  type DestinationLink,
  DestinationLinkSchema,
  DestinationSchema,
  LinkSyncStateSchema,
  SyncMode,
} from '@shoal/contracts';
import { CLOCK, type Clock, type FieldViolation, type Principal } from '@shoal/platform';
import { SEGMENT_USAGE_REGISTRY, type SegmentUsageRegistry } from '../peers/peers.ports';
import { SegmentAccessService } from '../segments/segment-access.service';
import { DESTINATION_KINDS, type DestinationKinds } from './destination-kinds';
import { DestinationError } from './destinations.errors';
import { nextSlot, scheduleViolations } from './link-schedule';
import {
  DESTINATION_REPOSITORY,
  type DestinationRepositoryPort,
  LINK_STATE_REPOSITORY,
  type LinkStateRepositoryPort,
  SYNC_QUEUE,
  type SyncQueuePort,
} from './destinations.repository.port';

const MAX_NAME = 200;
const MAX_LINK_TRAITS = 50;
const MAX_TRAIT_PATH = 200;

/** Where secrets go so the logger masks them wherever they would appear. */
export interface SecretRegistry {
  add(secret: string): void;
}
export const SECRET_REGISTRY = Symbol('SecretRegistry');

/**
 * Destinations and their links to segments. A destination belongs to the user who created it;
 * to anyone else it does not exist. Only shared segments are linked; an auto-syncing link locks
 * its segment through the segments service (asked first, so a lock is never missing while the
 * link says auto-sync).
 */
@Injectable()
export class DestinationsService {
  constructor(
    @Inject(DESTINATION_REPOSITORY) private readonly destinations: DestinationRepositoryPort,
    @Inject(SYNC_QUEUE) private readonly queue: SyncQueuePort,
    @Inject(LINK_STATE_REPOSITORY) private readonly states: LinkStateRepositoryPort,
    @Inject(SEGMENT_USAGE_REGISTRY) private readonly usage: SegmentUsageRegistry,
    @Inject(DESTINATION_KINDS) private readonly kinds: DestinationKinds,
    @Inject(SECRET_REGISTRY) private readonly secrets: SecretRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly access: SegmentAccessService,
  ) {}

  async create({
    name,
    config,
    principal,
  }: {
    name: string;
    config: DestinationConfig | undefined;
    principal: Principal;
  }): Promise<Destination> {
    if (principal.kind !== 'user') throw DestinationError.usersOnly();
    validateName(name);
    const prepared = await this.kinds.prepared(config, undefined);
    const now = timestampFromDate(this.clock.now());
    const destination = create(DestinationSchema, {
      id: `dst_${randomBytes(15).toString('base64url')}`,
      name,
      owner: principal.subject,
      config: prepared,
      version: 1n,
      createdAt: now,
      updatedAt: now,
    });
    this.remember(destination);
    await this.destinations.insert(destination);
    return destination;
  }

  /** A destination the caller owns (services see all); NOT_FOUND otherwise. */
  async get(id: string, principal: Principal): Promise<Destination> {
    const found = id ? await this.destinations.get(id) : undefined;
    if (!found || (principal.kind === 'user' && found.owner !== principal.subject))
      throw DestinationError.notFound(id);
    this.remember(found);
    return found;
  }

  async list(principal: Principal, limit: number): Promise<Destination[]> {
    const found = await this.destinations.list(
      principal.kind === 'user' ? principal.subject : undefined,
      limit,
    );
    found.forEach((d) => this.remember(d));
    return found;
  }

  async update({
    id,
    expectedVersion,
    name,
    config,
    principal,
  }: {
    id: string;
    expectedVersion: bigint;
    name: string;
    config: DestinationConfig | undefined;
    principal: Principal;
  }): Promise<Destination> {
    const current = await this.get(id, principal);
    validateName(name);
    const prepared = await this.kinds.prepared(config, current.config);
    const updated = await this.save(current, expectedVersion, { name, config: prepared });
    // auto-syncing links show the destination's name on the segment's lock
    if (updated.name !== current.name) {
      for (const link of updated.links) await this.recordUsage(updated, link, true);
    }
    return updated;
  }

  async remove(id: string, principal: Principal): Promise<void> {
    const current = await this.get(id, principal);
    for (const link of current.links) await this.recordUsage(current, link, false);
    await this.destinations.remove(current.id);
    await this.queue.clear(current.id);
    await this.states.remove(current.id);
  }

  async link({
    id,
    segmentId,
    mode,
    autoSync,
    traits = [],
    schedule = '',
    timeZone = '',
    principal,
  }: {
    id: string;
    segmentId: string;
    mode: SyncMode;
    autoSync: boolean;
    traits?: readonly string[];
    schedule?: string;
    timeZone?: string;
    principal: Principal;
  }): Promise<Destination> {
    const current = await this.get(id, principal);
    await this.access.linkable(segmentId, principal);
    if (current.links.some((l) => l.segmentId === segmentId))
      throw DestinationError.alreadyLinked(id, segmentId);
    const { kind } = this.kinds.of(current.config);
    const chosen =
      mode !== SyncMode.UNSPECIFIED
        ? mode
        : kind.incremental
          ? SyncMode.INCREMENTAL
          : SyncMode.FULL;
    const violations: FieldViolation[] = [];
    if (chosen === SyncMode.INCREMENTAL && !kind.incremental)
      violations.push({
        field: 'mode',
        description: `${kind.kind} destinations take full syncs only`,
      });
    violations.push(...traitViolations(traits));
    if (schedule.trim() && chosen !== SyncMode.FULL)
      violations.push({ field: 'schedule', description: 'only full links run on a schedule' });
    else if (schedule.trim() || timeZone)
      violations.push(...scheduleViolations({ cron: schedule, timeZone }));
    if (violations.length > 0) throw DestinationError.invalid(violations);
    const link = create(DestinationLinkSchema, {
      segmentId,
      mode: chosen,
      autoSync,
      traits: [...new Set(traits)],
      schedule: schedule.trim(),
      timeZone,
      linkedAt: timestampFromDate(this.clock.now()),
    });
    await this.recordUsage(current, link, true);
    return this.save(current, current.version, { links: [...current.links, link] });
  }

  async setAutoSync({
    id,
    segmentId,
    autoSync,
    principal,
  }: {
    id: string;
    segmentId: string;
    autoSync: boolean;
    principal: Principal;
  }): Promise<Destination> {
    const current = await this.get(id, principal);
    const link = linkOf(current, segmentId);
    // turning auto-sync on again re-checks that the segment may still be synced
    if (autoSync) await this.access.linkable(segmentId, principal);
    const changed = create(DestinationLinkSchema, { ...link, autoSync });
    await this.recordUsage(current, changed, true);
    return this.save(current, current.version, {
      links: current.links.map((l) => (l.segmentId === segmentId ? changed : l)),
    });
  }

  async unlink({
    id,
    segmentId,
    principal,
  }: {
    id: string;
    segmentId: string;
    principal: Principal;
  }): Promise<Destination> {
    const current = await this.get(id, principal);
    const link = linkOf(current, segmentId);
    await this.recordUsage(current, link, false);
    const updated = await this.save(current, current.version, {
      links: current.links.filter((l) => l.segmentId !== segmentId),
    });
    await this.queue.clear(id, segmentId);
    await this.states.remove(id, segmentId);
    return updated;
  }

  /** The link of a destination the caller owns to a segment they may still sync. */
  async syncable(id: string, segmentId: string, principal: Principal) {
    const destination = await this.get(id, principal);
    const link = linkOf(destination, segmentId);
    if (principal.kind === 'user') await this.access.linkable(segmentId, principal);
    return { destination, link };
  }

  /** What reads show: every secret removed, each link with where its syncing stands. */
  async view(destination: Destination): Promise<Destination> {
    const { kind, value } = this.kinds.of(destination.config);
    const links = await Promise.all(
      destination.links.map(async (link) => {
        const state = await this.states.get(destination.id, link.segmentId);
        return create(DestinationLinkSchema, {
          ...link,
          syncState: create(LinkSyncStateSchema, {
            ...(state?.lastSyncedAt ? { lastSyncedAt: timestampFromDate(state.lastSyncedAt) } : {}),
            lastSyncedEventId: state?.lastSyncedEventId ?? '',
            lastSyncedSequence: BigInt(state?.lastSyncedSequence ?? 0),
            recordsSynced: BigInt(state?.recordsSynced ?? 0),
            pausedBacklog: BigInt(state?.pausedBacklog ?? 0),
            fullSyncRequired: state?.fullSyncRequired ?? false,
            ...(link.schedule
              ? {
                  nextScheduledSyncAt: timestampFromDate(
                    nextSlot({ cron: link.schedule, timeZone: link.timeZone }, this.clock.now()),
                  ),
                }
              : {}),
          }),
        });
      }),
    );
    return create(DestinationSchema, {
      ...destination,
      links,
      config: create(DestinationConfigSchema, {
        kind: {
          case: kind.kind,
          value: kind.redacted(value as never),
        } as DestinationConfig['kind'],
      }),
    });
  }

  private async save(
    current: Destination,
    expectedVersion: bigint,
    changes: Partial<Pick<Destination, 'name' | 'config' | 'links'>>,
  ): Promise<Destination> {
    if (expectedVersion !== current.version)
      throw DestinationError.versionConflict(current.id, expectedVersion, current.version);
    const updated = create(DestinationSchema, {
      ...current,
      ...changes,
      version: current.version + 1n,
      updatedAt: timestampFromDate(this.clock.now()),
    });
    this.remember(updated);
    if (!(await this.destinations.replace(updated, current.version))) {
      const now = await this.destinations.get(current.id);
      throw DestinationError.versionConflict(current.id, expectedVersion, now?.version ?? 0n);
    }
    return updated;
  }

  private recordUsage(destination: Destination, link: DestinationLink, inUse: boolean) {
    return this.usage.setDestinationUsage({
      segmentId: link.segmentId,
      destinationId: destination.id,
      destinationName: destination.name,
      autoSync: link.autoSync,
      inUse,
    });
  }

  private remember(destination: Destination): void {
    const { kind, value } = this.kinds.of(destination.config);
    for (const secret of kind.secrets(value as never)) this.secrets.add(secret);
  }
}

function linkOf(destination: Destination, segmentId: string): DestinationLink {
  const link = destination.links.find((l) => l.segmentId === segmentId);
  if (!link) throw DestinationError.notLinked(destination.id, segmentId);
  return link;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function traitViolations(traits: readonly string[]): FieldViolation[] {
  if (traits.length > MAX_LINK_TRAITS)
    return [{ field: 'traits', description: `at most ${MAX_LINK_TRAITS}` }];
  const bad = (path: string) =>
    !path || path.length > MAX_TRAIT_PATH || CONTROL.test(path) || path.split('.').some((s) => !s);
  return traits.flatMap((path, i) =>
    bad(path)
      ? [
          {
            field: `traits[${i}]`,
            description: `a dotted trait path (e.g. "address.city") of 1–${MAX_TRAIT_PATH} characters`,
          },
        ]
      : [],
  );
}

function validateName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name))
    throw DestinationError.invalid([
      { field: 'name', description: `1–${MAX_NAME} characters without control characters` },
    ]);
}
