import { type MessageInitShape, create, fromJson } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Type } from '@nestjs/common';
import {
  RefreshMode,
  type RefreshProgress,
  RefreshProgressSchema,
  RefreshState,
  RuleSchema,
  SegmentKind,
  SegmentSchema,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { type TestServiceOptions, newTestService } from '@shoal/testing';
import { SegmentCatalogue } from '../src/definitions/segment-catalogue';
import { JOB_REPOSITORY } from '../src/jobs/jobs.repository.port';
import { JobsService } from '../src/jobs/jobs.service';
import {
  JOB_SETTINGS,
  type JobSettings,
  MEMBERSHIP,
  type MembershipPort,
} from '../src/jobs/membership.port';
import { DEFAULT_SCHEDULE } from '../src/schedules/schedule';
import {
  SCHEDULE_REPOSITORY,
  type ScheduleRepositoryPort,
} from '../src/schedules/schedules.repository.port';
import { SCHEDULE_SETTINGS, SchedulesService } from '../src/schedules/schedules.service';
import { SEGMENT_DEFINITIONS } from '../src/schedules/segment-definitions.port';
import { InMemoryJobRepository } from './in-memory-jobs.repository';
import { InMemorySegmentDefinitions } from './in-memory-segment-definitions';

/** Membership as the scheduler sees it, recording the commands it was sent. */
export class RecordingMembership implements MembershipPort {
  readonly refreshes: string[] = [];
  /** The start-before instant of each refresh sent, by job id. */
  readonly startBefore = new Map<string, number>();
  readonly cancels: string[] = [];
  lag = 0;
  partitions = 2;
  /** Runs before a refresh is recorded as sent (it is not when this throws). */
  onRefresh?: (jobId: string) => Promise<void>;

  async refresh({ jobId, startBeforeMs }: { jobId: string; startBeforeMs: number }) {
    await this.onRefresh?.(jobId);
    this.refreshes.push(jobId);
    this.startBefore.set(jobId, startBeforeMs);
  }
  async cancel({ jobId }: { jobId: string }) {
    this.cancels.push(jobId);
  }
  async partitionCount() {
    return this.partitions;
  }
  async upstreamLag() {
    return this.lag;
  }
}

class InMemoryScheduleRepository implements ScheduleRepositoryPort {
  private schedule?: { cron: string; timeZone: string };
  async defaultSchedule() {
    return this.schedule;
  }
  async setDefaultSchedule(schedule: { cron: string; timeZone: string }) {
    this.schedule = { ...schedule };
  }
}

export const TEST_JOB_SETTINGS: JobSettings = {
  timeoutMs: 60_000,
  lagBound: 0,
  lagMaxWaitMs: 30_000,
};

/** A scheduler use case over in-memory storage and a recording membership, at a fixed clock. */
export async function newSchedulerTestService<T>(
  service: Type<T>,
  {
    settings = TEST_JOB_SETTINGS,
    now,
    extra = {},
  }: {
    settings?: JobSettings;
    now?: string;
    /** More fakes and providers, for use cases beyond jobs and schedules. */
    extra?: Pick<TestServiceOptions, 'fakes' | 'providers'>;
  } = {},
) {
  const repository = new InMemoryJobRepository();
  const membership = new RecordingMembership();
  const catalogue = new SegmentCatalogue();
  const definitions = new InMemorySegmentDefinitions();
  const test = await newTestService(service, {
    ...(now ? { now } : {}),
    fakes: [
      [JOB_REPOSITORY, repository],
      [MEMBERSHIP, membership],
      [SCHEDULE_REPOSITORY, new InMemoryScheduleRepository()],
      [SEGMENT_DEFINITIONS, definitions],
      ...(extra.fakes ?? []),
    ],
    providers: [
      { provide: JOB_SETTINGS, useValue: settings },
      {
        provide: SCHEDULE_SETTINGS,
        useValue: { defaultSchedule: DEFAULT_SCHEDULE, adminGroups: ['ops'] },
      },
      { provide: SegmentCatalogue, useValue: catalogue },
      JobsService,
      SchedulesService,
      ...(extra.providers ?? []),
    ],
  });
  /** Publishes a definition, as the segments service would. */
  const define = (id: string, init: MessageInitShape<typeof SegmentSchema> = {}) => {
    const segment = create(SegmentSchema, {
      id,
      name: id,
      kind: SegmentKind.DYNAMIC,
      rule: fromJson(RuleSchema, { condition: { hasTag: 'vip' } }),
      status: SegmentStatus.ACTIVE,
      owner: 'ann',
      visibility: Visibility.PRIVATE,
      refresh: { mode: RefreshMode.MANUAL },
      version: 1n,
      createdAt: timestampFromMs(Date.UTC(2026, 10, 1)),
      ...init,
    } as MessageInitShape<typeof SegmentSchema>);
    catalogue.apply([{ segmentId: id, definition: segment }]);
    return segment;
  };
  return {
    ...test,
    repository,
    membership,
    catalogue,
    definitions,
    define,
    jobs: test.get<JobsService>(JobsService),
  };
}

/** A partition's progress report on a job. */
export function progress(
  jobId: string,
  partition: number,
  state: RefreshState,
  figures: {
    processed?: number;
    total?: number;
    entered?: number;
    exited?: number;
    detail?: string;
    version?: number;
    ruleChange?: boolean;
  } = {},
): RefreshProgress {
  return create(RefreshProgressSchema, {
    jobId,
    segmentId: 'seg_a',
    partition,
    partitionCount: 2,
    state,
    processed: BigInt(figures.processed ?? 0),
    total: BigInt(figures.total ?? 0),
    entered: BigInt(figures.entered ?? 0),
    exited: BigInt(figures.exited ?? 0),
    detail: figures.detail ?? '',
    segmentVersion: BigInt(figures.version ?? 1),
    ruleChange: figures.ruleChange ?? false,
  });
}

export const ann: Principal = { subject: 'ann', groups: ['marketing'], kind: 'user' };
export const eve: Principal = { subject: 'eve', groups: ['sales'], kind: 'user' };
export { RefreshState };
