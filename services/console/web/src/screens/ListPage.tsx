import { useMutation, useQuery } from '@connectrpc/connect-query';
import {
  Button,
  Code,
  Group,
  Loader,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { SegmentKind, SegmentService, Visibility } from '@shoal/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { navigate } from '../router';
import { ListUpload } from './ListUpload';
import { SegmentActions } from './SegmentActions';
import { ErrorAlert } from './ErrorAlert';

/** A static list: create one, add and remove members by id, see its members. */
export function ListPage({ listId }: { listId?: string }) {
  return listId ? <ListMembers listId={listId} /> : <NewList />;
}

function NewList() {
  const [name, setName] = useState('');
  const create = useMutation(SegmentService.method.createSegment);
  return (
    <Stack maw={480}>
      <Title order={2}>New static list</Title>
      <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
      <ErrorAlert error={create.error} />
      <Button
        w="fit-content"
        disabled={!name.trim()}
        loading={create.isPending}
        onClick={async () => {
          const { segment } = await create.mutateAsync({
            kind: SegmentKind.STATIC_LIST,
            segment: { name, visibility: Visibility.SHARED },
          });
          if (segment) navigate(`/lists/${encodeURIComponent(segment.id)}`);
        }}
      >
        Create list
      </Button>
    </Stack>
  );
}

const idsOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((id) => id.trim())
    .filter(Boolean);

function ListMembers({ listId }: { listId: string }) {
  const list = useQuery(SegmentService.method.getSegment, { id: listId });
  const members = useQuery(SegmentService.method.listListMembers, {
    listId,
    page: { pageSize: 100 },
  });
  const count = useQuery(SegmentService.method.countListMembers, { listId });
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries();
  const add = useMutation(SegmentService.method.addListMembers, { onSuccess: refresh });
  const remove = useMutation(SegmentService.method.removeListMembers, { onSuccess: refresh });
  const [ids, setIds] = useState('');
  if (list.isPending) return <Loader aria-label="Loading" />;
  const error = list.error ?? members.error ?? add.error ?? remove.error;
  return (
    <Stack>
      <Title order={2}>{list.data?.segment?.name ?? listId}</Title>
      {list.data?.segment && (
        <Group gap="xs">
          <SegmentActions segment={list.data.segment} path="lists" />
        </Group>
      )}
      <Text>
        <strong data-testid="list-count">{count.data?.memberCount.toLocaleString() ?? '…'}</strong>{' '}
        members
      </Text>
      <ErrorAlert error={error} />
      <Textarea
        label="Profile ids"
        description="separated by commas, spaces or new lines"
        value={ids}
        onChange={(e) => setIds(e.currentTarget.value)}
        maw={520}
        autosize
        minRows={2}
      />
      <Group>
        <Button
          disabled={idsOf(ids).length === 0}
          loading={add.isPending}
          onClick={() => add.mutate({ listId, memberIds: idsOf(ids) })}
        >
          Add to list
        </Button>
        <Button
          variant="light"
          color="red"
          disabled={idsOf(ids).length === 0}
          loading={remove.isPending}
          onClick={() => remove.mutate({ listId, memberIds: idsOf(ids) })}
        >
          Remove from list
        </Button>
      </Group>
      <ListUpload listId={listId} />
      <Table aria-label="List members" maw={520}>
        <Table.Tbody>
          {(members.data?.memberIds ?? []).map((id) => (
            <Table.Tr key={id}>
              <Table.Td>
                <Code>{id}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
