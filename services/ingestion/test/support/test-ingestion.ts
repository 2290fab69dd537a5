import { type UpstreamEvent } from '@shoal/contracts';
import { Metrics, SecretMask, createLogger } from '@shoal/platform';
import {
  type IngestionSettings,
  ProfileIngestionService,
} from '../../src/profiles/profile-ingestion.service';
import {
  InMemoryAccountRepository,
  InMemoryIdentityRepository,
  InMemoryProfileRepository,
  RecordingPublisher,
} from './in-memory-repositories';

export const testSettings: IngestionSettings = {
  checkpointIntervalMs: 1_000,
  maxPendingProfiles: 10_000,
  workingSetProfiles: 10_000,
  maxIdentities: 20,
  identityTraits: ['email'],
  dedupWindowMs: 86_400_000,
  dedupMaxPerProfile: 100,
  backpressureWaitMs: 10_000,
  writesPerCommand: 1_000,
  storeRetryMs: 5_000,
};

/** The store and the topic, shared by the instances a test starts (as real ones would be). */
export function testStore() {
  return {
    profiles: new InMemoryProfileRepository(),
    identities: new InMemoryIdentityRepository(),
    accounts: new InMemoryAccountRepository(),
    topic: new RecordingPublisher(),
  };
}

export type TestStore = ReturnType<typeof testStore>;

/** A clock tests move by hand. */
export class TestClock {
  constructor(private at = Date.parse('2026-12-01T12:00:00Z')) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

/**
 * An ingestion instance over in-memory repositories and a recording topic. `ingest` takes
 * events with consecutive offsets of partition 0 unless told where they came from.
 */
export function testIngestion(
  store: TestStore = testStore(),
  settings: Partial<IngestionSettings> = {},
  clock = new TestClock(),
) {
  const service = new ProfileIngestionService(
    { ...testSettings, ...settings },
    store.profiles,
    store.identities,
    store.accounts,
    store.topic,
    clock,
    createLogger({
      service: 'ingestion-test',
      version: '0',
      level: 'silent',
      secrets: new SecretMask(),
    }),
    new Metrics('ingestion-test'),
  );
  let offset = 0;
  const ingest = (events: readonly UpstreamEvent[], origins?: readonly string[]) =>
    service.ingest(
      events.map((event, i) => ({
        event,
        origin: origins?.[i] ?? `0:${offset++}`,
        arrivedAt: clock.now().getTime(),
      })),
    );
  return { service, store, clock, ingest };
}
