import {
  Alert,
  Button,
  FileButton,
  Group,
  List,
  Paper,
  Progress,
  Text,
  Title,
} from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { describeError, segmentsClient } from '../api';
import {
  IdCsvReader,
  type RowError,
  type RowId,
  UPLOAD_BATCH_SIZE,
  refusedRows,
} from '../list-upload';

/** Refused rows listed on screen; the rest are counted. */
const ROW_ERRORS_SHOWN = 50;

interface Upload {
  readonly fileName: string;
  readonly percent: number;
  readonly sent: number;
  readonly added: number;
  readonly errors: readonly RowError[];
  readonly state: 'running' | 'done' | 'cancelled' | 'failed';
  readonly failure?: string;
}

/**
 * Uploads a CSV of ids to a static list: the file is read and parsed in the browser a chunk at
 * a time and sent in batches of AddListMembers, with progress, refused rows reported by number.
 */
export function ListUpload({ listId }: { listId: string }) {
  const [upload, setUpload] = useState<Upload>();
  const abort = useRef<AbortController | undefined>(undefined);
  const queries = useQueryClient();

  const start = async (file: File | null) => {
    if (!file) return;
    const controller = new AbortController();
    abort.current = controller;
    const reader = new IdCsvReader();
    const decoder = new TextDecoder();
    const errors: RowError[] = [];
    let pending: RowId[] = [];
    let read = 0;
    let sent = 0;
    let added = 0;
    const report = (state: Upload['state'], failure?: string) =>
      setUpload({
        fileName: file.name,
        percent: file.size === 0 ? 100 : Math.round((read / file.size) * 100),
        sent,
        added,
        errors: [...errors],
        state,
        ...(failure ? { failure } : {}),
      });
    const send = async (batch: readonly RowId[]): Promise<void> => {
      try {
        const answer = await segmentsClient.addListMembers(
          { listId, memberIds: batch.map((b) => b.id) },
          { signal: controller.signal },
        );
        added += answer.added;
        sent += batch.length;
      } catch (error) {
        const refused = controller.signal.aborted
          ? undefined
          : refusedRows(batch, describeError(error).violations);
        if (!refused) throw error;
        errors.push(...refused);
        const bad = new Set(refused.map((r) => r.row));
        const rest = batch.filter((b) => !bad.has(b.row));
        if (rest.length > 0 && rest.length < batch.length) await send(rest);
      }
    };
    const take = ({ ids, errors: refused }: ReturnType<IdCsvReader['push']>) => {
      pending.push(...ids);
      errors.push(...refused);
    };
    const flush = async (all: boolean) => {
      while (pending.length >= UPLOAD_BATCH_SIZE || (all && pending.length > 0)) {
        const batch = pending.slice(0, UPLOAD_BATCH_SIZE);
        pending = pending.slice(UPLOAD_BATCH_SIZE);
        await send(batch);
        report('running');
      }
    };
    report('running');
    try {
      const chunks = file.stream().getReader();
      for (;;) {
        const { done, value } = await chunks.read();
        if (controller.signal.aborted) return report('cancelled');
        if (done) break;
        read += value.byteLength;
        take(reader.push(decoder.decode(value, { stream: true })));
        await flush(false);
      }
      take(reader.push(decoder.decode()));
      take(reader.end());
      await flush(true);
      report('done');
    } catch (error) {
      report(controller.signal.aborted ? 'cancelled' : 'failed', describeError(error).message);
    } finally {
      await queries.invalidateQueries();
    }
  };

  const running = upload?.state === 'running';
  return (
    <Paper withBorder p="sm" component="section" aria-label="Upload ids" maw={720}>
      <Title order={3} size="h4">
        Upload a CSV of ids
      </Title>
      <Text size="sm" c="dimmed" mb="xs">
        The first column of each row is an id (a header row such as “id” is skipped); the file is
        read in your browser and sent {UPLOAD_BATCH_SIZE.toLocaleString()} ids at a time.
      </Text>
      <Group>
        <FileButton onChange={(file) => void start(file)} accept=".csv,.txt,text/csv,text/plain">
          {(props) => (
            <Button {...props} variant="default" disabled={running}>
              Choose a CSV file
            </Button>
          )}
        </FileButton>
        {running && (
          <Button variant="subtle" color="red.9" onClick={() => abort.current?.abort()}>
            Stop the upload
          </Button>
        )}
      </Group>
      {upload && (
        <>
          <Progress
            mt="sm"
            value={upload.percent}
            aria-label={`Upload ${upload.percent}%`}
            animated={running}
          />
          <Text size="sm" mt={4} data-testid="upload-status" role="status">
            {upload.fileName}: {upload.sent.toLocaleString()} ids sent,{' '}
            {upload.added.toLocaleString()} new on the list
            {upload.errors.length > 0 &&
              `, ${upload.errors.length.toLocaleString()} ${upload.errors.length === 1 ? 'row' : 'rows'} refused`}
            {upload.state === 'done' && ' — done'}
            {upload.state === 'cancelled' && ' — stopped'}
          </Text>
          {upload.failure && (
            <Alert color="red" role="alert" mt="xs">
              The upload stopped: {upload.failure}
            </Alert>
          )}
          {upload.errors.length > 0 && (
            <List size="sm" mt="xs" aria-label="Refused rows">
              {upload.errors.slice(0, ROW_ERRORS_SHOWN).map((e) => (
                <List.Item key={e.row}>
                  row {e.row}: {e.message}
                </List.Item>
              ))}
              {upload.errors.length > ROW_ERRORS_SHOWN && (
                <List.Item>
                  and {(upload.errors.length - ROW_ERRORS_SHOWN).toLocaleString()} more rows
                </List.Item>
              )}
            </List>
          )}
        </>
      )}
    </Paper>
  );
}
