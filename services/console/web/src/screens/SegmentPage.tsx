import { toJson } from '@bufbuild/protobuf';
import { type Value, ValueSchema } from '@bufbuild/protobuf/wkt';
import { useMutation, useQuery } from '@connectrpc/connect-query';
import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Loader,
  Paper,
  PasswordInput,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import {
  ChangeAction,
  type ConditionExplanation,
  ExportService,
  JobStatus,
  JobTrigger,
  MembershipService,
  RefreshMode,
  RuleDiffKind,
  SchedulerService,
  type Segment,
  SegmentService,
  SegmentStatus,
  SyncMode,
} from '@shoal/contracts';
import { useQueries, useQuery as useTanstackQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { describeError, formatTime, membershipClient, profileClient } from '../api';
import { COLUMN, cellOf, jobProgress, membersCsvHref, offeredColumns } from '../insight';
import {
  JOB_COLORS,
  STATE_COLORS,
  jobStatusLabel,
  modeLabel,
  stateLabel,
  triggerLabel,
  visibilityLabel,
} from '../labels';
import { Link } from '../router';
import { SegmentActions } from './SegmentActions';
import { ErrorAlert } from './ErrorAlert';

const MEMBERS_SHOWN = 100;
const SHOWN_CHARS = 120;
const TREND_DAYS = 30;
/** A table wider than the screen scrolls sideways; the keyboard must reach it to scroll it. */
const KEYBOARD_SCROLLABLE = { viewportProps: { tabIndex: 0 } };

/** The last `days` UTC days, as the scheduler names days. */
function lastDays(days: number): { fromDay: string; toDay: string } {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const now = Date.now();
  return { fromDay: day(now - days * 86_400_000), toDay: day(now) };
}

/** A JSON value from a service, short enough for a line. */
function shown(value: Value): string {
  const text = JSON.stringify(toJson(ValueSchema, value));
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

export function SegmentPage({ segmentId }: { segmentId: string }) {
  const found = useQuery(
    SegmentService.method.getSegment,
    { id: segmentId },
    { refetchInterval: 3000 },
  );
  if (found.isPending) return <Loader aria-label="Loading" />;
  if (found.error) return <ErrorAlert error={found.error} />;
  const segment = found.data.segment;
  if (!segment) return <Alert color="red">No such segment.</Alert>;
  return (
    <Stack>
      <Header segment={segment} />
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Trend segmentId={segment.id} />
        <Members segment={segment} />
      </SimpleGrid>
      <Explain segmentId={segment.id} />
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <History segment={segment} />
        <Jobs segmentId={segment.id} />
      </SimpleGrid>
      <Destinations segment={segment} />
    </Stack>
  );
}

function Header({ segment }: { segment: Segment }) {
  const locked = segment.lock?.locked === true;
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={2}>{segment.name}</Title>
        <Group>
          {locked ? (
            <Button disabled title="Locked by an auto-syncing destination">
              Edit (locked)
            </Button>
          ) : (
            <Button component={Link} to={`/segments/${encodeURIComponent(segment.id)}/edit`}>
              Edit
            </Button>
          )}
        </Group>
      </Group>
      <Group gap="xs">
        <SegmentActions segment={segment} path="segments" />
      </Group>
      {segment.description && <Text>{segment.description}</Text>}
      <Group gap="xs">
        <Badge color={STATE_COLORS[segment.state] ?? 'gray'}>{stateLabel(segment.state)}</Badge>
        {segment.status === SegmentStatus.INACTIVE && (
          <Badge color="gray" data-testid="inactive">
            inactive
          </Badge>
        )}
        <Badge variant="outline">
          {modeLabel(segment.refresh?.mode ?? 0)}
          {segment.refresh?.mode === RefreshMode.SCHEDULED &&
            ` ${segment.refresh.cron || 'default schedule'} ${segment.refresh.timeZone || 'UTC'}`}
        </Badge>
        <Badge variant="outline">{visibilityLabel(segment.visibility)}</Badge>
        <Badge variant="outline">version {segment.version.toString()}</Badge>
        {locked && (
          <Badge color="yellow" data-testid="locked">
            locked by auto-sync
          </Badge>
        )}
        <Text size="sm">
          <strong data-testid="member-count">{segment.memberCount.toLocaleString()}</strong> members
          · last refreshed {formatTime(segment.lastRefreshedAt)}
          {segment.valueTrait && (
            <>
              {' '}
              · sum of {segment.valueTrait}:{' '}
              <strong data-testid="value-sum">{segment.valueSum?.toLocaleString() ?? '—'}</strong>
            </>
          )}
        </Text>
      </Group>
    </Stack>
  );
}

function Trend({ segmentId }: { segmentId: string }) {
  const history = useQuery(SchedulerService.method.getMemberCountHistory, {
    segmentId,
    ...lastDays(TREND_DAYS),
  });
  const days = new Map<
    string,
    { day: string; members?: number; entered?: number; exited?: number }
  >();
  for (const s of history.data?.snapshots ?? [])
    days.set(s.day, { day: s.day, members: Number(s.memberCount) });
  for (const c of history.data?.churn ?? [])
    days.set(c.day, {
      ...(days.get(c.day) ?? { day: c.day }),
      entered: Number(c.entered),
      exited: -Number(c.exited),
    });
  const data = [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
  return (
    <Paper withBorder p="sm" component="section" aria-label="Member count trend">
      <Title order={3} size="h4">
        Member count and churn
      </Title>
      <ErrorAlert error={history.error} />
      {data.length === 0 ? (
        <Text c="dimmed">
          No history yet: counts are snapshotted daily and churn counted as members move.
        </Text>
      ) : (
        <>
          <ResponsiveContainer width="100%" height={160}>
            <LineChart data={data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Line type="monotone" dataKey="members" stroke="#0ca678" isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
          <ResponsiveContainer width="100%" height={120}>
            <BarChart data={data}>
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="entered" fill="#1c7ed6" isAnimationActive={false} />
              <Bar dataKey="exited" fill="#fa5252" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </>
      )}
    </Paper>
  );
}

/** Profiles are read again at most this often for the members table's columns. */
const PROFILE_STALE_MS = 60_000;

function Members({ segment }: { segment: Segment }) {
  const [columns, setColumns] = useState<string[]>(['identity:email']);
  const members = useTanstackQuery({
    queryKey: ['members', segment.id],
    queryFn: async ({ signal }) => {
      const ids: string[] = [];
      for await (const page of membershipClient.listMembers(
        { segmentId: segment.id, limit: BigInt(MEMBERS_SHOWN) },
        { signal },
      ))
        ids.push(...page.profileIds);
      return ids;
    },
    refetchInterval: 3000,
  });
  const ids = members.data ?? [];
  const profiles = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['profile', id],
      queryFn: async () => (await profileClient.getProfile({ profileId: id })).profile ?? null,
      enabled: columns.length > 0,
      staleTime: PROFILE_STALE_MS,
      // a caller without the profile readers' group is refused for every row alike
      retry: false,
    })),
  });
  const loaded = profiles.flatMap((p) => (p.data ? [p.data] : []));
  const profileError = profiles.find((p) => p.error)?.error;
  const offered = [...new Set([...offeredColumns(loaded), ...columns, 'identity:email'])].sort();
  return (
    <Paper withBorder p="sm" component="section" aria-label="Members">
      <Group justify="space-between" align="end">
        <Title order={3} size="h4">
          Members
        </Title>
        <Button
          variant="default"
          size="xs"
          component="a"
          href={membersCsvHref(segment.id, columns)}
          download
        >
          Download CSV
        </Button>
      </Group>
      <TagsInput
        label="Columns"
        description="identity:<trait> or trait:<path>; the CSV has the same columns"
        data={offered}
        value={columns}
        onChange={(chosen) => setColumns(chosen.filter((c) => COLUMN.test(c)))}
        clearable
        mb="xs"
      />
      <ErrorAlert error={members.error} />
      {columns.length > 0 && profileError && (
        <Alert color="yellow">
          Profiles could not be read: {describeError(profileError).message}
        </Alert>
      )}
      {members.data && members.data.length === 0 && <Text c="dimmed">No members yet.</Text>}
      <Table.ScrollContainer minWidth={320} scrollAreaProps={KEYBOARD_SCROLLABLE}>
        <Table aria-label="Members table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Profile id</Table.Th>
              {columns.map((c) => (
                <Table.Th key={c}>{c}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {ids.map((id, i) => (
              <Table.Tr key={id}>
                <Table.Td>
                  <Code>{id}</Code>
                </Table.Td>
                {columns.map((c) => (
                  <Table.Td key={c}>{cellOf(profiles[i]?.data ?? undefined, c)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {members.data?.length === MEMBERS_SHOWN && (
        <Text size="xs" c="dimmed">
          The first {MEMBERS_SHOWN}; download the CSV for all of them.
        </Text>
      )}
    </Paper>
  );
}

function Explain({ segmentId }: { segmentId: string }) {
  const [profileId, setProfileId] = useState('');
  const explain = useMutation(MembershipService.method.explain);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    explain.mutate({ segmentId, profileId: profileId.trim() });
  };
  const result = explain.data;
  return (
    <Paper withBorder p="sm" component="section" aria-label="Explain">
      <Title order={3} size="h4">
        Why is a profile in or out?
      </Title>
      <form onSubmit={submit}>
        <Group align="end">
          <TextInput
            label="Profile id"
            value={profileId}
            onChange={(e) => setProfileId(e.currentTarget.value)}
            w={320}
          />
          <Button type="submit" loading={explain.isPending} disabled={!profileId.trim()}>
            Explain
          </Button>
        </Group>
      </form>
      <ErrorAlert error={explain.error} />
      {result && (
        <Stack gap={4} mt="sm" data-testid="explanation">
          <Text fw={700}>{result.membership?.member ? 'A member' : 'Not a member'}</Text>
          {result.explanation?.condition && (
            <ul style={{ listStyle: 'none', paddingLeft: 0, margin: 0 }} aria-label="Explanation">
              <ExplanationTree node={result.explanation.condition} />
            </ul>
          )}
          {result.notes.map((n) => (
            <Text size="xs" c="dimmed" key={n}>
              {n}
            </Text>
          ))}
        </Stack>
      )}
    </Paper>
  );
}

function ExplanationTree({ node }: { node: ConditionExplanation }) {
  return (
    <li>
      <Text size="sm">
        <Text
          span
          c={node.matched ? 'teal' : 'red'}
          fw={700}
          aria-label={node.matched ? 'met' : 'not met'}
        >
          {node.matched ? '✓' : '✗'}
        </Text>{' '}
        {node.summary}
        {node.observed !== undefined && (
          <Text span c="dimmed">
            {' '}
            (observed {shown(node.observed)})
          </Text>
        )}
      </Text>
      {node.children.length > 0 && (
        <ul style={{ listStyle: 'none', paddingLeft: 20, margin: 0 }}>
          {node.children.map((child) => (
            <ExplanationTree key={child.path} node={child} />
          ))}
        </ul>
      )}
    </li>
  );
}

function History({ segment }: { segment: Segment }) {
  const history = useQuery(SegmentService.method.getSegmentHistory, {
    id: segment.id,
    page: { pageSize: 20 },
  });
  const revert = useMutation(SegmentService.method.revertSegment);
  const queries = useQueryClient();
  const locked = segment.lock?.locked === true;
  return (
    <Paper withBorder p="sm" component="section" aria-label="History">
      <Title order={3} size="h4">
        History
      </Title>
      <ErrorAlert error={revert.error} />
      <Table.ScrollContainer minWidth={560} scrollAreaProps={KEYBOARD_SCROLLABLE}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Change</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(history.data?.changes ?? []).map((change) => (
              <Table.Tr key={change.version.toString()}>
                <Table.Td>{change.version.toString()}</Table.Td>
                <Table.Td>
                  <Text size="sm">
                    {(ChangeAction[change.action] ?? '')
                      .replace('CHANGE_ACTION_', '')
                      .toLowerCase()}{' '}
                    {change.fields.map((f) => f.field).join(', ')}
                  </Text>
                  {change.ruleDiff.map((d) => (
                    <Text size="xs" key={d.path} c="dimmed">
                      {(RuleDiffKind[d.kind] ?? '').replace('RULE_DIFF_KIND_', '').toLowerCase()}{' '}
                      <Code>{d.path}</Code>
                      {d.before !== undefined && <> from {shown(d.before)}</>}
                      {d.after !== undefined && <> to {shown(d.after)}</>}
                    </Text>
                  ))}
                  <Text size="xs" c="dimmed">
                    {formatTime(change.changedAt)}
                  </Text>
                </Table.Td>
                <Table.Td>{change.changedBy}</Table.Td>
                <Table.Td>
                  {change.version !== segment.version && (
                    <Button
                      size="xs"
                      variant="light"
                      disabled={locked}
                      aria-label={`Revert to version ${change.version}`}
                      loading={revert.isPending}
                      onClick={async () => {
                        await revert.mutateAsync({
                          id: segment.id,
                          expectedVersion: segment.version,
                          toVersion: change.version,
                        });
                        await queries.invalidateQueries();
                      }}
                    >
                      Revert
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

function Jobs({ segmentId }: { segmentId: string }) {
  const jobs = useQuery(
    SchedulerService.method.listJobs,
    { segmentId, page: { pageSize: 10 } },
    { refetchInterval: 3000 },
  );
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries();
  const cancel = useMutation(SchedulerService.method.cancelJob, { onSuccess: refresh });
  const refreshNow = useMutation(SchedulerService.method.refreshNow, { onSuccess: refresh });
  const error = jobs.error ?? cancel.error ?? refreshNow.error;
  return (
    <Paper withBorder p="sm" component="section" aria-label="Jobs">
      <Group justify="space-between">
        <Title order={3} size="h4">
          Refresh jobs
        </Title>
        <Button
          size="xs"
          variant="light"
          loading={refreshNow.isPending}
          onClick={() => refreshNow.mutate({ segmentIds: [segmentId] })}
        >
          Refresh now
        </Button>
      </Group>
      <ErrorAlert error={error} />
      {jobs.data?.jobs.length === 0 && <Text c="dimmed">No refresh has run.</Text>}
      <Table.ScrollContainer minWidth={520} scrollAreaProps={KEYBOARD_SCROLLABLE}>
        <Table aria-label="Jobs table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Progress</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(jobs.data?.jobs ?? []).map((job) => {
              const progress = jobProgress(job);
              const open = job.status === JobStatus.QUEUED || job.status === JobStatus.RUNNING;
              return (
                <Table.Tr key={job.id} data-testid="job">
                  <Table.Td>
                    <Text size="sm">{formatTime(job.startedAt ?? job.createdAt)}</Text>
                    <Text size="xs" c="dimmed">
                      {triggerLabel(job.trigger)} · {job.requestedBy}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={JOB_COLORS[job.status] ?? 'gray'}>
                      {jobStatusLabel(job.status)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {progress.percent !== undefined && (
                      <Progress
                        value={progress.percent}
                        aria-label={`${progress.percent}% processed`}
                        size="sm"
                        mb={4}
                      />
                    )}
                    <Text size="xs">{progress.label}</Text>
                    {job.warnings.map((w) => (
                      <Text size="xs" c="orange.9" key={w}>
                        ⚠ {w}
                      </Text>
                    ))}
                    {job.error && (
                      <Text size="xs" c="red.9">
                        {job.error}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {open && job.trigger !== JobTrigger.RULE_CHANGE && (
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        aria-label={`Cancel job ${job.id}`}
                        onClick={() => cancel.mutate({ jobId: job.id })}
                      >
                        Cancel
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

function Destinations({ segment }: { segment: Segment }) {
  const destinations = useQuery(ExportService.method.listDestinations, { limit: 100 });
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries();
  const setAutoSync = useMutation(ExportService.method.setAutoSync, { onSuccess: refresh });
  const link = useMutation(ExportService.method.linkSegment, { onSuccess: refresh });
  const syncNow = useMutation(ExportService.method.syncNow);
  const create = useMutation(ExportService.method.createDestination, { onSuccess: refresh });
  const [chosen, setChosen] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const all = destinations.data?.destinations ?? [];
  const linked = all.flatMap((d) =>
    d.links.filter((l) => l.segmentId === segment.id).map((l) => ({ destination: d, link: l })),
  );
  const error =
    destinations.error ?? setAutoSync.error ?? link.error ?? syncNow.error ?? create.error;
  return (
    <Paper withBorder p="sm" component="section" aria-label="Destinations">
      <Title order={3} size="h4">
        Destinations
      </Title>
      <ErrorAlert error={error} />
      <Table>
        <Table.Tbody>
          {linked.map(({ destination, link: l }) => (
            <Table.Tr key={destination.id}>
              <Table.Td>{destination.name}</Table.Td>
              <Table.Td>{l.mode === SyncMode.FULL ? 'full' : 'incremental'}</Table.Td>
              <Table.Td>
                <Switch
                  label={`Auto-sync to ${destination.name}`}
                  checked={l.autoSync}
                  onChange={(e) =>
                    setAutoSync.mutate({
                      destinationId: destination.id,
                      segmentId: segment.id,
                      autoSync: e.currentTarget.checked,
                    })
                  }
                />
              </Table.Td>
              <Table.Td>
                <Text size="xs">
                  {l.syncState?.recordsSynced.toString() ?? 0} synced, last{' '}
                  {formatTime(l.syncState?.lastSyncedAt)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="light"
                  onClick={() =>
                    syncNow.mutate({ destinationId: destination.id, segmentId: segment.id })
                  }
                >
                  Sync now
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group align="end" mt="sm">
        <Select
          label="Link a destination"
          data={all
            .filter((d) => !linked.some((l) => l.destination.id === d.id))
            .map((d) => ({ value: d.id, label: d.name }))}
          value={chosen}
          onChange={setChosen}
          w={260}
        />
        <Button
          variant="light"
          disabled={!chosen}
          onClick={() =>
            chosen &&
            link.mutate({
              destinationId: chosen,
              segmentId: segment.id,
              mode: SyncMode.INCREMENTAL,
            })
          }
        >
          Link
        </Button>
      </Group>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({
            name,
            config: { kind: { case: 'webhook', value: { url, signingSecret: secret } } },
          });
        }}
      >
        <Group align="end" mt="sm">
          <TextInput
            label="New webhook destination name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <TextInput
            label="Webhook URL"
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
            w={320}
          />
          <PasswordInput
            label="Signing secret"
            value={secret}
            onChange={(e) => setSecret(e.currentTarget.value)}
          />
          <Button
            type="submit"
            variant="default"
            disabled={!name || !url || !secret}
            loading={create.isPending}
          >
            Create destination
          </Button>
        </Group>
      </form>
      <Text size="xs" c="dimmed" mt="xs">
        Only shared segments sync; while a link auto-syncs, the segment is locked against edits.
      </Text>
    </Paper>
  );
}
