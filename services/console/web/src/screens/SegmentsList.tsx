import { useQuery } from '@connectrpc/connect-query';
import { useDebouncedValue, useInViewport } from '@mantine/hooks';
import {
  Badge,
  Group,
  MultiSelect,
  Select,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import {
  RefreshMode,
  SchedulerService,
  SegmentKind,
  SegmentService,
  SegmentSort,
  SegmentState,
  SegmentStatus,
} from '@shoal/contracts';
import { keepPreviousData } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError, formatTime } from '../api';
import { changeText } from '../insight';
import { STATE_COLORS, kindLabel, modeLabel, stateLabel, statusLabel } from '../labels';
import { Link } from '../router';
import { ErrorAlert } from './ErrorAlert';

const SORTS = [
  { value: String(SegmentSort.UPDATED_AT), label: 'Last changed' },
  { value: String(SegmentSort.NAME), label: 'Name' },
  { value: String(SegmentSort.MEMBER_COUNT), label: 'Member count' },
  { value: String(SegmentSort.CREATED_AT), label: 'Created' },
];
const MODES = [RefreshMode.REALTIME, RefreshMode.SCHEDULED, RefreshMode.MANUAL].map((m) => ({
  value: String(m),
  label: modeLabel(m),
}));
const STATUSES = [SegmentStatus.ACTIVE, SegmentStatus.INACTIVE].map((s) => ({
  value: String(s),
  label: statusLabel(s),
}));
const STATES = [
  SegmentState.DRAFT,
  SegmentState.COMPUTING,
  SegmentState.READY,
  SegmentState.FAILED,
].map((s) => ({ value: String(s), label: stateLabel(s) }));

const SEARCH_PAUSE_MS = 300;

export function SegmentsList() {
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState(String(SegmentSort.UPDATED_AT));
  const [descending, setDescending] = useState(true);
  const [modes, setModes] = useState<string[]>([]);
  const [statuses, setStatuses] = useState<string[]>([]);
  const [states, setStates] = useState<string[]>([]);
  const [tags, setTags] = useState<string[]>([]);
  const [owners, setOwners] = useState<string[]>([]);
  // asked once the typing pauses, not per keystroke
  const [searched] = useDebouncedValue(search.trim(), SEARCH_PAUSE_MS);
  const segments = useQuery(
    SegmentService.method.listSegments,
    {
      search: searched,
      sort: Number(sort),
      descending,
      refreshModes: modes.map(Number),
      statuses: statuses.map(Number),
      tags,
      owners,
      page: { pageSize: 100 },
    },
    // the rows shown stay until the next answer replaces them, instead of flashing empty
    { placeholderData: keepPreviousData },
  );
  // the service filters by status (active / inactive); the computed state is filtered here
  const shown = (segments.data?.segments ?? []).filter(
    (s) => states.length === 0 || states.includes(String(s.state)),
  );

  return (
    <Stack>
      <Title order={2}>Segments</Title>
      <Group align="end" wrap="wrap">
        <TextInput
          label="Search"
          placeholder="name, description or tag"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
        />
        <Select
          label="Sort by"
          data={SORTS}
          value={sort}
          onChange={(v) => setSort(v ?? sort)}
          allowDeselect={false}
        />
        <Switch
          label="Descending"
          checked={descending}
          onChange={(e) => setDescending(e.currentTarget.checked)}
        />
        <MultiSelect
          label="State"
          data={STATES}
          value={states}
          onChange={setStates}
          clearable
          w={180}
        />
        <MultiSelect
          label="Status"
          data={STATUSES}
          value={statuses}
          onChange={setStatuses}
          clearable
          w={180}
        />
        <MultiSelect
          label="Refresh"
          data={MODES}
          value={modes}
          onChange={setModes}
          clearable
          w={200}
        />
        <TagsInput label="Tags" value={tags} onChange={setTags} clearable w={200} />
        <TagsInput label="Owners" value={owners} onChange={setOwners} clearable w={200} />
      </Group>
      <ErrorAlert error={segments.error} />
      <Table striped highlightOnHover aria-label="Segments">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Refresh</Table.Th>
            <Table.Th ta="right">Members</Table.Th>
            <Table.Th ta="right">30-day change</Table.Th>
            <Table.Th>Last refreshed</Table.Th>
            <Table.Th>Owner</Table.Th>
            <Table.Th>Tags</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {shown.map((segment) => (
            <Table.Tr key={segment.id}>
              <Table.Td>
                <Link
                  to={
                    segment.kind === SegmentKind.STATIC_LIST
                      ? `/lists/${encodeURIComponent(segment.id)}`
                      : `/segments/${encodeURIComponent(segment.id)}`
                  }
                >
                  {segment.name}
                </Link>
              </Table.Td>
              <Table.Td>{kindLabel(segment.kind)}</Table.Td>
              <Table.Td>
                <Badge color={STATE_COLORS[segment.state] ?? 'gray'} variant="light">
                  {stateLabel(segment.state)}
                </Badge>
                {segment.status === SegmentStatus.INACTIVE && (
                  <Badge color="gray" variant="outline" ml={4}>
                    inactive
                  </Badge>
                )}
              </Table.Td>
              <Table.Td>
                {segment.kind === SegmentKind.DYNAMIC ? modeLabel(segment.refresh?.mode ?? 0) : '—'}
              </Table.Td>
              <Table.Td ta="right">{segment.memberCount.toLocaleString()}</Table.Td>
              <Table.Td ta="right">
                {segment.kind === SegmentKind.DYNAMIC ? <Change segmentId={segment.id} /> : '—'}
              </Table.Td>
              <Table.Td>{formatTime(segment.lastRefreshedAt)}</Table.Td>
              <Table.Td>{segment.owner}</Table.Td>
              <Table.Td>
                {segment.tags.map((t) => (
                  <Badge key={t} variant="outline" mr={4}>
                    {t}
                  </Badge>
                ))}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {segments.isSuccess && shown.length === 0 && <Text c="dimmed">No segments match.</Text>}
    </Stack>
  );
}

/** How long a row's 30-day change is reused: it moves with daily snapshots, not keystrokes. */
const SUMMARY_STALE_MS = 5 * 60_000;

/**
 * A row's 30-day change, asked for once the row scrolls into view and then cached per segment,
 * so searching and sorting reuse the answers instead of asking again for every row.
 */
function Change({ segmentId }: { segmentId: string }) {
  const { ref, inViewport } = useInViewport();
  const [seen, setSeen] = useState(false);
  if (inViewport && !seen) setSeen(true);
  const summary = useQuery(
    SchedulerService.method.getSegmentSummary,
    { segmentId },
    { enabled: seen, staleTime: SUMMARY_STALE_MS },
  );
  const text = summary.data ? changeText(summary.data) : '';
  const change = summary.data?.change30d ?? 0n;
  return (
    <Text
      ref={ref}
      span
      size="sm"
      c={change > 0n ? 'teal.9' : change < 0n ? 'red.9' : undefined}
      data-testid="change-30d"
      title={summary.error ? describeError(summary.error).message : undefined}
    >
      {summary.error ? '?' : text}
    </Text>
  );
}
