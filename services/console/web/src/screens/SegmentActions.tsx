import { useMutation, useQuery } from '@connectrpc/connect-query';
import { Alert, Button, Checkbox, Group, List, Modal, Stack, Text, TextInput } from '@mantine/core';
import { type Segment, SegmentKind, SegmentService, SegmentStatus } from '@shoal/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { describeError } from '../api';
import { navigate } from '../router';
import { usageLines } from '../segment-actions';
import { ErrorAlert } from './ErrorAlert';

type Dialog = 'rename' | 'duplicate' | 'delete' | undefined;

/**
 * Rename, duplicate, activate / deactivate (dynamic segments) and delete, each confirmed in a
 * dialog or a click; `path` is where the copy's page is (segments or lists).
 */
export function SegmentActions({ segment, path }: { segment: Segment; path: string }) {
  const [dialog, setDialog] = useState<Dialog>();
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries();
  const activate = useMutation(SegmentService.method.activateSegment, { onSuccess: refresh });
  const deactivate = useMutation(SegmentService.method.deactivateSegment, { onSuccess: refresh });
  const active = segment.status !== SegmentStatus.INACTIVE;
  const toggle = active ? deactivate : activate;
  const close = () => setDialog(undefined);
  return (
    <>
      <Button variant="default" onClick={() => setDialog('rename')}>
        Rename
      </Button>
      <Button variant="default" onClick={() => setDialog('duplicate')}>
        Duplicate
      </Button>
      {segment.kind === SegmentKind.DYNAMIC && (
        <Button
          variant="default"
          loading={toggle.isPending}
          onClick={() => toggle.mutate({ id: segment.id, expectedVersion: segment.version })}
        >
          {active ? 'Deactivate' : 'Activate'}
        </Button>
      )}
      <Button variant="outline" color="red" onClick={() => setDialog('delete')}>
        Delete
      </Button>
      <ErrorAlert error={toggle.error} w="100%" />
      <Modal opened={dialog === 'rename'} onClose={close} title="Rename segment">
        {dialog === 'rename' && <RenameForm segment={segment} onDone={close} />}
      </Modal>
      <Modal opened={dialog === 'duplicate'} onClose={close} title="Duplicate segment">
        {dialog === 'duplicate' && <DuplicateForm segment={segment} path={path} />}
      </Modal>
      <Modal opened={dialog === 'delete'} onClose={close} title="Delete segment">
        {dialog === 'delete' && <DeleteForm segment={segment} onCancel={close} />}
      </Modal>
    </>
  );
}

function RenameForm({ segment, onDone }: { segment: Segment; onDone: () => void }) {
  const [name, setName] = useState(segment.name);
  const queries = useQueryClient();
  const rename = useMutation(SegmentService.method.renameSegment);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await rename.mutateAsync({ id: segment.id, expectedVersion: segment.version, name });
    await queries.invalidateQueries();
    onDone();
  };
  return (
    <form onSubmit={(e) => void submit(e).catch(() => undefined)}>
      <Stack>
        <TextInput
          label="New name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          required
          data-autofocus
          error={
            describeError(rename.error).violations.find((v) => v.field === 'name')?.description
          }
        />
        <ErrorAlert error={rename.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={rename.isPending} disabled={!name.trim()}>
            Rename
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function DuplicateForm({ segment, path }: { segment: Segment; path: string }) {
  const [name, setName] = useState(`${segment.name} (copy)`);
  const duplicate = useMutation(SegmentService.method.duplicateSegment);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { segment: copy } = await duplicate.mutateAsync({ id: segment.id, name });
    if (copy) navigate(`/${path}/${encodeURIComponent(copy.id)}`);
  };
  return (
    <form onSubmit={(e) => void submit(e).catch(() => undefined)}>
      <Stack>
        <Text size="sm">
          The copy has the same rule and settings, is owned by you and starts computing at once.
        </Text>
        <TextInput
          label="Name of the copy"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          required
          data-autofocus
        />
        <ErrorAlert error={duplicate.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={duplicate.isPending} disabled={!name.trim()}>
            Duplicate
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function DeleteForm({ segment, onCancel }: { segment: Segment; onCancel: () => void }) {
  const usages = useQuery(SegmentService.method.getSegmentUsages, { id: segment.id });
  const remove = useMutation(SegmentService.method.deleteSegment);
  const [force, setForce] = useState(false);
  const queries = useQueryClient();
  const lines = usageLines(usages.data?.usages ?? []);
  const used = lines.length > 0;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await remove.mutateAsync({ id: segment.id, expectedVersion: segment.version, force });
    queries.clear();
    navigate('/');
  };
  return (
    <form onSubmit={(e) => void submit(e).catch(() => undefined)}>
      <Stack>
        <Text>
          Delete <strong>{segment.name}</strong>?{' '}
          {segment.kind === SegmentKind.STATIC_LIST
            ? 'Its members are dropped'
            : 'Its members stop being computed'}{' '}
          and it leaves every listing; this cannot be undone from the console.
        </Text>
        <ErrorAlert error={usages.error} />
        {used && (
          <Alert color="yellow" title="In use" role="status">
            <Text size="sm">Deleting it affects what uses it:</Text>
            <List size="sm" aria-label="What uses the segment">
              {lines.map((line) => (
                <List.Item key={line}>{line}</List.Item>
              ))}
            </List>
            <Checkbox
              mt="xs"
              label="Delete it anyway"
              checked={force}
              onChange={(e) => setForce(e.currentTarget.checked)}
            />
          </Alert>
        )}
        <ErrorAlert error={remove.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Keep it
          </Button>
          <Button
            type="submit"
            color="red"
            loading={remove.isPending}
            disabled={usages.isPending || (used && !force)}
          >
            Delete segment
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
