import type { DescService } from '@bufbuild/protobuf';
import {
  ExportService,
  MembershipService,
  ProfileService,
  SchedulerService,
  SegmentService,
} from '@shoal/contracts';
import type { ConsoleConfig } from '../service';

/** One service the console forwards to, and exactly which of its RPCs. */
export interface ForwardedService {
  readonly service: DescService;
  readonly address: (config: ConsoleConfig) => string;
  /** RPC names as in the .proto; any other RPC of the service is UNIMPLEMENTED here. */
  readonly rpcs: readonly string[];
}

/**
 * What the web app may call. Service-to-service RPCs (SetDestinationUsage, StreamProfiles),
 * ingestion's writes and erasure, and purging are left out: the console is a marketer's tool.
 */
export const CONSOLE_RPCS: readonly ForwardedService[] = [
  {
    service: SegmentService,
    address: (c) => c.CONSOLE_SEGMENTS_ADDRESS,
    rpcs: [
      'CreateSegment',
      'GetSegment',
      'ListSegments',
      'UpdateSegment',
      'RenameSegment',
      'DuplicateSegment',
      'ActivateSegment',
      'DeactivateSegment',
      'DeleteSegment',
      'GetSegmentUsages',
      'ValidateRule',
      'AddListMembers',
      'RemoveListMembers',
      'ListListMembers',
      'CountListMembers',
      'GetSegmentHistory',
      'GetSegmentVersion',
      'RevertSegment',
      'ListTemplates',
      'CreateSegmentFromTemplate',
    ],
  },
  {
    service: MembershipService,
    address: (c) => c.CONSOLE_MEMBERSHIP_ADDRESS,
    rpcs: [
      'IsMember',
      'GetProfileSegments',
      'ListMembers',
      'CountMembers',
      'Preview',
      'Explain',
      'GetEvaluationStatus',
    ],
  },
  {
    service: SchedulerService,
    address: (c) => c.CONSOLE_SCHEDULER_ADDRESS,
    rpcs: [
      'GetSchedule',
      'RefreshNow',
      'ListJobs',
      'GetJob',
      'CancelJob',
      'GetSystemStatus',
      'GetMemberCountHistory',
      'GetSegmentSummary',
    ],
  },
  {
    service: ExportService,
    address: (c) => c.CONSOLE_EXPORTER_ADDRESS,
    rpcs: [
      'CreateDestination',
      'GetDestination',
      'ListDestinations',
      'UpdateDestination',
      'DeleteDestination',
      'LinkSegment',
      'SetAutoSync',
      'UnlinkSegment',
      'SyncNow',
      'ListSyncRuns',
      'ListDeadLetters',
      'RedeliverDeadLetters',
    ],
  },
  {
    service: ProfileService,
    address: (c) => c.CONSOLE_INGESTION_ADDRESS,
    rpcs: ['GetProfile', 'LookupProfile'],
  },
];
