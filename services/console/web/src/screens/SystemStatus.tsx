import { useQuery } from '@connectrpc/connect-query';
import { Badge, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { SchedulerService } from '@shoal/contracts';
import { formatTime } from '../api';
import { jobStatusLabel } from '../labels';
import { ErrorAlert } from './ErrorAlert';

export function SystemStatus() {
  const status = useQuery(SchedulerService.method.getSystemStatus, {}, { refetchInterval: 5000 });
  if (status.error) return <ErrorAlert error={status.error} />;
  const data = status.data;
  return (
    <Stack>
      <Title order={2}>System status</Title>
      <Text size="sm" c="dimmed">
        Observed {formatTime(data?.observedAt)}
      </Text>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="sm" component="section" aria-label="Services">
          <Title order={3} size="h4">
            Services
          </Title>
          <Table>
            <Table.Tbody>
              {(data?.services ?? []).map((s) => (
                <Table.Tr key={s.service}>
                  <Table.Td>{s.service}</Table.Td>
                  <Table.Td>
                    <Badge color={s.ready ? 'teal' : 'red'}>
                      {s.ready ? 'ready' : 'not ready'}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs">{s.detail}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
        <Paper withBorder p="sm" component="section" aria-label="Consumer lag">
          <Title order={3} size="h4">
            Consumer lag
          </Title>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Group</Table.Th>
                <Table.Th>Topic</Table.Th>
                <Table.Th ta="right">Records behind</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(data?.consumerLag ?? []).map((l) => (
                <Table.Tr key={`${l.group}/${l.topic}`}>
                  <Table.Td>{l.group}</Table.Td>
                  <Table.Td>{l.topic}</Table.Td>
                  <Table.Td ta="right">{l.lag.toLocaleString()}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      </SimpleGrid>
      <Paper withBorder p="sm" component="section" aria-label="Running jobs">
        <Title order={3} size="h4">
          Jobs queued or running
        </Title>
        {data?.activeJobs.length === 0 && <Text c="dimmed">None.</Text>}
        {data?.activeJobs.map((j) => (
          <Text key={j.id} size="sm">
            {j.segmentId}: {jobStatusLabel(j.status)} since {formatTime(j.createdAt)}
          </Text>
        ))}
      </Paper>
      <Paper withBorder p="sm" component="section" aria-label="Last failure">
        <Title order={3} size="h4">
          Last failure
        </Title>
        {data?.lastFailure ? (
          <Text size="sm">
            {data.lastFailure.segmentId} at {formatTime(data.lastFailure.finishedAt)}:{' '}
            {data.lastFailure.error}
          </Text>
        ) : (
          <Text c="dimmed">No refresh has failed.</Text>
        )}
      </Paper>
    </Stack>
  );
}
