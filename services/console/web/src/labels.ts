import {
  JobStatus,
  JobTrigger,
  RefreshMode,
  SegmentKind,
  SegmentState,
  SegmentStatus,
  Visibility,
} from '@shoal/contracts';

/** An enum value in words: REFRESH_MODE_REALTIME → "realtime". */
const words = (names: Record<number, string>, prefix: string) => (value: number) =>
  (names[value] ?? '').replace(prefix, '').replace(/_/g, ' ').toLowerCase() || '—';

export const stateLabel = words(SegmentState, 'SEGMENT_STATE_');
export const statusLabel = words(SegmentStatus, 'SEGMENT_STATUS_');
export const modeLabel = words(RefreshMode, 'REFRESH_MODE_');
export const kindLabel = words(SegmentKind, 'SEGMENT_KIND_');
export const visibilityLabel = words(Visibility, 'VISIBILITY_');
export const jobStatusLabel = words(JobStatus, 'JOB_STATUS_');
export const triggerLabel = words(JobTrigger, 'JOB_TRIGGER_');

export const STATE_COLORS: Record<number, string> = {
  [SegmentState.DRAFT]: 'gray',
  [SegmentState.COMPUTING]: 'blue',
  [SegmentState.READY]: 'teal',
  [SegmentState.FAILED]: 'red',
};

export const JOB_COLORS: Record<number, string> = {
  [JobStatus.QUEUED]: 'gray',
  [JobStatus.RUNNING]: 'blue',
  [JobStatus.SUCCEEDED]: 'teal',
  [JobStatus.FAILED]: 'red',
  [JobStatus.CANCELLED]: 'yellow',
  [JobStatus.SKIPPED]: 'gray',
};
