import { fromJson, toJson, type JsonValue as ProtoJson } from '@bufbuild/protobuf';
import { useMutation, useQuery } from '@connectrpc/connect-query';
import {
  Alert,
  Badge,
  Button,
  Grid,
  Group,
  List,
  Loader,
  Paper,
  Stack,
  TagsInput,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery as useTanstackQuery } from '@tanstack/react-query';
import {
  MembershipService,
  RuleSchema,
  type Segment,
  SegmentKind,
  SegmentService,
} from '@shoal/contracts';
import { useEffect, useMemo, useState } from 'react';
import { describeError, fetchSession } from '../api';
import { RuleBuilder } from '../rule-builder/RuleBuilder';
import { type JsonValue, type RuleDraft, toDraft, toRuleJson } from '../rule-builder/model';
import { navigate } from '../router';
import { usageLines } from '../segment-actions';
import {
  DEFAULT_SETTINGS,
  type SegmentSettings,
  draftSettings,
  settingsOf,
  violationAt,
} from '../segment-settings';
import { SegmentSettingsPanel } from './SegmentSettingsPanel';
import { ErrorAlert } from './ErrorAlert';

const EMPTY: RuleDraft = { timeZone: '', audience: '' };
/** Every field the editor writes; a non-owner sends the owner-only ones back unchanged. */
const DRAFT_PATHS = [
  'name',
  'description',
  'tags',
  'rule',
  'visibility',
  'hidden_from',
  'editors',
  'refresh',
  'reentry',
  'value_trait',
];

/** Create a dynamic segment, or edit one: its rule, name, description, tags and settings. */
export function SegmentEditor({ segmentId }: { segmentId?: string }) {
  const existing = useQuery(
    SegmentService.method.getSegment,
    { id: segmentId ?? '' },
    { enabled: !!segmentId },
  );
  if (segmentId && existing.isPending) return <Loader aria-label="Loading" />;
  if (existing.error) return <ErrorAlert error={existing.error} />;
  return <EditorForm key={segmentId ?? 'new'} segment={existing.data?.segment} />;
}

function EditorForm({ segment }: { segment?: Segment }) {
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [tags, setTags] = useState<string[]>(segment?.tags ?? []);
  const [settings, setSettings] = useState<SegmentSettings>(() =>
    segment ? settingsOf(segment) : DEFAULT_SETTINGS,
  );
  const settingsDraft = draftSettings(settings);
  const [triedSave, setTriedSave] = useState(false);
  const session = useTanstackQuery({ queryKey: ['session'], queryFn: fetchSession });
  const notOwner = !!segment && session.data?.user !== segment.owner;
  const [draft, setDraft] = useState<RuleDraft>(() =>
    segment?.rule ? toDraft(toJson(RuleSchema, segment.rule) as JsonValue) : EMPTY,
  );
  const ruleJson = useMemo(() => toRuleJson(draft), [draft]);
  const ruleText = JSON.stringify(ruleJson, null, 2);
  const [jsonText, setJsonText] = useState(ruleText);
  const [jsonError, setJsonError] = useState<string>();
  useEffect(() => {
    setJsonText(ruleText);
    setJsonError(undefined);
  }, [ruleText]);

  const rule = useMemo(() => {
    try {
      return fromJson(RuleSchema, ruleJson as ProtoJson);
    } catch {
      return undefined;
    }
  }, [ruleJson]);
  const [debounced] = useDebouncedValue(ruleText, 400);
  const ready = !!rule && !!draft.condition && debounced === ruleText;
  const validation = useQuery(SegmentService.method.validateRule, { rule }, { enabled: ready });
  const valid = validation.data?.valid === true;
  const preview = useQuery(
    MembershipService.method.preview,
    { rule, sampleSize: 10 },
    { enabled: ready && valid },
  );

  const create = useMutation(SegmentService.method.createSegment);
  const update = useMutation(SegmentService.method.updateSegment);
  const saving = create.isPending || update.isPending;
  const saveError = create.error ?? update.error;
  const locked = segment?.lock?.locked === true;

  const violations = [
    ...(validation.data?.violations ?? []),
    // the settings' own violations show beside their fields, not on the rule
    ...(saveError ? describeError(saveError).violations : []).filter(
      (v) => !v.field.startsWith('segment.') || v.field.startsWith('segment.rule'),
    ),
  ];

  const settingsError = (field: string) =>
    (triedSave ? settingsDraft.errors[field] : undefined) ??
    violationAt(saveError ? describeError(saveError).violations : [], field);

  const save = async () => {
    setTriedSave(true);
    if (Object.keys(settingsDraft.errors).length > 0) return;
    const body = { name, description, tags, rule, ...settingsDraft.draft };
    const saved = segment
      ? (
          await update.mutateAsync({
            id: segment.id,
            expectedVersion: segment.version,
            segment: body,
            updateMask: { paths: DRAFT_PATHS },
          })
        ).segment
      : (await create.mutateAsync({ kind: SegmentKind.DYNAMIC, segment: body })).segment;
    if (saved) navigate(`/segments/${encodeURIComponent(saved.id)}`);
  };

  const editJson = (text: string) => {
    setJsonText(text);
    try {
      setDraft(toDraft(JSON.parse(text) as JsonValue));
      setJsonError(undefined);
    } catch (error) {
      setJsonError(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <Stack>
      <Title order={2}>{segment ? `Edit ${segment.name}` : 'New segment'}</Title>
      {locked && (
        <Alert color="yellow" title="Locked" role="status">
          An auto-syncing destination uses this segment, so its definition cannot change. Switch the
          destination’s auto-sync off to edit it.
        </Alert>
      )}
      {segment && <UsageWarning segmentId={segment.id} />}
      <Group align="end">
        <TextInput
          label="Name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          required
          w={320}
        />
        <TextInput
          label="Description"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          w={320}
        />
        <TagsInput label="Tags" value={tags} onChange={setTags} w={240} />
      </Group>
      <SegmentSettingsPanel
        settings={settings}
        onChange={setSettings}
        errors={settingsError}
        ownerOnlyDisabled={notOwner}
      />
      <Grid>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Title order={3} size="h4" mb="xs">
            Rule
          </Title>
          <RuleBuilder draft={draft} onChange={setDraft} violations={violations} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <Paper withBorder p="sm" aria-label="Size estimate" component="section">
              <Title order={3} size="h4">
                Size estimate
              </Title>
              <PreviewPanel
                pending={ready && (validation.isFetching || preview.isFetching)}
                estimate={preview.data}
                error={preview.error ? describeError(preview.error).message : undefined}
                invalid={validation.data?.valid === false}
              />
            </Paper>
            <Textarea
              label="Rule JSON"
              description="edit either side; the other follows"
              value={jsonText}
              onChange={(e) => editJson(e.currentTarget.value)}
              autosize
              minRows={12}
              maxRows={30}
              styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }}
              error={jsonError}
              spellCheck={false}
            />
          </Stack>
        </Grid.Col>
      </Grid>
      <ErrorAlert error={saveError} />
      <Group>
        <Button
          onClick={save}
          loading={saving}
          disabled={!rule || !draft.condition || !name.trim() || locked}
        >
          Save segment
        </Button>
        <Button variant="default" onClick={() => history.back()}>
          Cancel
        </Button>
      </Group>
    </Stack>
  );
}

function PreviewPanel({
  pending,
  estimate,
  error,
  invalid,
}: {
  pending: boolean;
  estimate?: {
    estimatedCount: bigint;
    exact: boolean;
    sampleProfileIds: string[];
    notes: string[];
  };
  error?: string;
  invalid: boolean;
}) {
  if (invalid) return <Text c="dimmed">Fix the rule to see its size.</Text>;
  if (error) return <Alert color="red">{error}</Alert>;
  if (!estimate)
    return pending ? (
      <Loader size="sm" aria-label="Estimating" />
    ) : (
      <Text c="dimmed">Add a condition to see its size.</Text>
    );
  return (
    <Stack gap={4}>
      <Group gap="xs">
        <Text size="xl" fw={700} data-testid="size-estimate">
          {estimate.estimatedCount.toLocaleString()}
        </Text>
        <Text>{estimate.exact ? 'members' : 'members (estimate)'}</Text>
        {pending && <Loader size="xs" aria-label="Updating" />}
      </Group>
      {estimate.sampleProfileIds.length > 0 && (
        <>
          <Text size="sm">First members:</Text>
          <List size="sm" aria-label="First members">
            {estimate.sampleProfileIds.map((id) => (
              <List.Item key={id}>
                <Badge variant="outline">{id}</Badge>
              </List.Item>
            ))}
          </List>
        </>
      )}
      {estimate.notes.map((note) => (
        <Text size="xs" c="dimmed" key={note}>
          {note}
        </Text>
      ))}
    </Stack>
  );
}

/** Before an edit is saved: what uses the segment and will see its members change. */
function UsageWarning({ segmentId }: { segmentId: string }) {
  const usages = useQuery(SegmentService.method.getSegmentUsages, { id: segmentId });
  if (usages.error) return <ErrorAlert error={usages.error} />;
  const lines = usageLines(usages.data?.usages ?? []);
  if (lines.length === 0) return null;
  return (
    <Alert color="yellow" title="Used elsewhere" role="status" aria-label="Used elsewhere">
      <Text size="sm">Saving a change affects what uses this segment:</Text>
      <List size="sm" aria-label="What uses the segment">
        {lines.map((line) => (
          <List.Item key={line}>{line}</List.Item>
        ))}
      </List>
    </Alert>
  );
}
