import { create } from '@bufbuild/protobuf';
import { type Profile, SegmentSchema, type Visibility } from '@shoal/contracts';
import { type TestService, newTestService } from '@shoal/testing';
import type { Type } from '@nestjs/common';
import { MEMBER_SOURCE, PROFILE_SOURCE, SEGMENT_USAGE_REGISTRY } from '../src/peers/peers.ports';
import { SegmentAccessService } from '../src/segments/segment-access.service';
import { SegmentDefinitions } from '../src/segments/segment-definitions';
import type { DeliveryBatch, DestinationKind } from '../src/destinations/destination-kind';
import { DESTINATION_KINDS, DestinationKinds } from '../src/destinations/destination-kinds';
import {
  DESTINATION_REPOSITORY,
  ERASURE_REPOSITORY,
  LINK_STATE_REPOSITORY,
  REFRESH_JOB_REPOSITORY,
  SYNC_QUEUE,
  SYNC_RUN_REPOSITORY,
} from '../src/destinations/destinations.repository.port';
import { DestinationsService, SECRET_REGISTRY } from '../src/destinations/destinations.service';
import { ErasureService } from '../src/destinations/erasure.service';
import { SYNC_SETTINGS, type SyncSettings, SyncService } from '../src/destinations/sync.service';
import { WebhookDestinationKind } from '../src/destinations/webhook.destination';
import { WebhookAddressPolicy, allowListOf } from '../src/destinations/webhook-address';
import {
  InMemoryDestinations,
  InMemoryErasures,
  InMemoryLinkStates,
  InMemoryRefreshJobs,
  InMemorySyncQueue,
  InMemorySyncRuns,
} from './in-memory-destinations';

/** A webhook kind whose deliveries a test scripts: each attempt takes the next outcome. */
export class ScriptedKind extends WebhookDestinationKind {
  readonly delivered: DeliveryBatch[] = [];
  outcomes: (Error | 'ok')[] = [];

  override async deliver(_: never, batch: DeliveryBatch) {
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
    this.delivered.push(batch);
  }
}

export interface DestinationsTestOptions {
  /** The segments the exporter knows, all owned by ann at version 1. */
  readonly segments: readonly { readonly id: string; readonly visibility: Visibility }[];
  /** Where webhook hosts resolve; a public address when absent. */
  readonly resolve?: (host: string) => { address: string; family: number }[];
  readonly sync?: Partial<SyncSettings>;
}

/**
 * A destinations use case over the in-memory repositories and peers, with a scripted webhook
 * kind: the set-up the destinations, sync and dead-letter specs share. A test puts the profiles
 * ingestion answers with in `profiles` and the members membership pages through (one page) in
 * `members`; what the peers were told (segment usages, registered secrets) is recorded.
 */
export async function newDestinationsTest<T>(sut: Type<T>, options: DestinationsTestOptions) {
  const definitions = new SegmentDefinitions();
  definitions.apply(
    options.segments.map(({ id, visibility }) => ({
      segmentId: id,
      definition: create(SegmentSchema, { id, owner: 'ann', visibility, version: 1n }),
    })),
  );
  const usages: { segmentId: string; autoSync: boolean; inUse: boolean }[] = [];
  const secrets: string[] = [];
  const repository = new InMemoryDestinations();
  const queue = new InMemorySyncQueue();
  const runs = new InMemorySyncRuns();
  const states = new InMemoryLinkStates();
  const erasures = new InMemoryErasures();
  const profiles = new Map<string, Profile>();
  const members: string[] = [];
  const resolve = options.resolve ?? (() => [{ address: '93.184.216.34', family: 4 }]);
  const kind = new ScriptedKind(
    { now: () => new Date() },
    new WebhookAddressPolicy(allowListOf([]), async (host) => resolve(host)),
  );
  const settings: SyncSettings = {
    retry: { baseMs: 1, maxMs: 2, maxRetryAfterMs: 5 },
    maxBatchWaitMs: 0,
    maxDestinations: 100,
    maxPausedBacklog: 3,
    ...options.sync,
  };
  const test: TestService<T> = await newTestService(sut, {
    now: '2026-12-01T00:00:00Z',
    fakes: [
      [DESTINATION_REPOSITORY, repository],
      [SYNC_QUEUE, queue],
      [SYNC_RUN_REPOSITORY, runs],
      [REFRESH_JOB_REPOSITORY, new InMemoryRefreshJobs()],
      [LINK_STATE_REPOSITORY, states],
      [ERASURE_REPOSITORY, erasures],
      [
        PROFILE_SOURCE,
        {
          profiles: async (ids: readonly string[]) =>
            new Map(ids.flatMap((id) => (profiles.has(id) ? [[id, profiles.get(id)!]] : []))),
        },
      ],
      [SEGMENT_USAGE_REGISTRY, { setDestinationUsage: async (u: never) => void usages.push(u) }],
      [SECRET_REGISTRY, { add: (s: string) => secrets.push(s) }],
      [
        MEMBER_SOURCE,
        {
          pages: async function* () {
            if (members.length > 0) yield members;
          },
        },
      ],
    ],
    providers: [
      { provide: SegmentDefinitions, useValue: definitions },
      SegmentAccessService,
      { provide: DESTINATION_KINDS, useValue: new DestinationKinds([kind as DestinationKind]) },
      { provide: SYNC_SETTINGS, useValue: settings },
      ...[DestinationsService, SyncService, ErasureService].filter(
        (service) => service !== (sut as Type),
      ),
    ],
  });
  return {
    test,
    repository,
    queue,
    runs,
    states,
    erasures,
    kind,
    usages,
    secrets,
    profiles,
    members,
  };
}
