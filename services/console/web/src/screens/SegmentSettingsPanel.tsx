import {
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { RefreshMode, ReentryMode, Visibility } from '@shoal/contracts';
import { COOL_DOWN_UNITS, type CoolDownUnit, type SegmentSettings } from '../segment-settings';

const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

/**
 * Who sees and edits a segment, how it refreshes, who may enter again and what is summed.
 * `errors` are keyed by the service's field paths (segment.refresh.cron, ...).
 */
export function SegmentSettingsPanel({
  settings,
  onChange,
  errors,
  ownerOnlyDisabled,
}: {
  settings: SegmentSettings;
  onChange: (next: SegmentSettings) => void;
  errors: (field: string) => string | undefined;
  /** Only the owner changes who sees or edits a segment. */
  ownerOnlyDisabled: boolean;
}) {
  const set = <K extends keyof SegmentSettings>(key: K, value: SegmentSettings[K]) =>
    onChange({ ...settings, [key]: value });
  const shared = settings.visibility === Visibility.SHARED;
  return (
    <Paper withBorder p="sm" component="section" aria-label="Settings">
      <Title order={3} size="h4" mb="xs">
        Settings
      </Title>
      <Stack gap="sm">
        <Group align="end" wrap="wrap">
          <Select
            label="Visibility"
            data={[
              { value: String(Visibility.SHARED), label: 'shared' },
              { value: String(Visibility.PRIVATE), label: 'private' },
            ]}
            value={String(settings.visibility)}
            onChange={(v) => v && set('visibility', Number(v) as SegmentSettings['visibility'])}
            allowDeselect={false}
            disabled={ownerOnlyDisabled}
            error={errors('segment.visibility')}
            w={140}
          />
          {shared && (
            <>
              <TagsInput
                label="Hidden from users"
                description="user names it is invisible to"
                value={[...settings.hiddenFromUsers]}
                onChange={(v) => set('hiddenFromUsers', v)}
                disabled={ownerOnlyDisabled}
                error={errors('segment.hiddenFrom.subjects')}
                w={220}
              />
              <TagsInput
                label="Hidden from groups"
                description="groups it is invisible to"
                value={[...settings.hiddenFromGroups]}
                onChange={(v) => set('hiddenFromGroups', v)}
                disabled={ownerOnlyDisabled}
                error={errors('segment.hiddenFrom.groups')}
                w={220}
              />
              <TagsInput
                label="Editor users"
                description="may change it besides you"
                value={[...settings.editorUsers]}
                onChange={(v) => set('editorUsers', v)}
                disabled={ownerOnlyDisabled}
                error={errors('segment.editors.subjects')}
                w={220}
              />
              <TagsInput
                label="Editor groups"
                description="groups who may change it"
                value={[...settings.editorGroups]}
                onChange={(v) => set('editorGroups', v)}
                disabled={ownerOnlyDisabled}
                error={errors('segment.editors.groups')}
                w={220}
              />
            </>
          )}
        </Group>
        {ownerOnlyDisabled && (
          <Text size="xs" c="dimmed">
            Only the owner changes who sees or edits this segment.
          </Text>
        )}
        <Group align="end" wrap="wrap">
          <Select
            label="Refresh"
            data={[
              { value: String(RefreshMode.REALTIME), label: 'realtime' },
              { value: String(RefreshMode.SCHEDULED), label: 'scheduled' },
              { value: String(RefreshMode.MANUAL), label: 'manual' },
            ]}
            value={String(settings.mode)}
            onChange={(v) => v && set('mode', Number(v) as SegmentSettings['mode'])}
            allowDeselect={false}
            error={errors('segment.refresh.mode')}
            w={140}
          />
          {settings.mode === RefreshMode.SCHEDULED && (
            <>
              <TextInput
                label="Schedule (cron)"
                description="five fields; empty follows the default schedule"
                placeholder="0 */4 * * *"
                value={settings.cron}
                onChange={(e) => set('cron', e.currentTarget.value)}
                error={errors('segment.refresh.cron')}
                w={240}
              />
              <Select
                label="Time zone"
                description="the schedule is read in it"
                data={TIME_ZONES}
                value={settings.timeZone || 'UTC'}
                onChange={(v) => set('timeZone', v === 'UTC' || !v ? '' : v)}
                searchable
                allowDeselect={false}
                error={errors('segment.refresh.timeZone')}
                w={240}
              />
            </>
          )}
        </Group>
        <Group align="end" wrap="wrap">
          <Stack gap={4}>
            <Text size="sm" fw={500} id="reentry-label">
              Re-entry
            </Text>
            <SegmentedControl
              aria-labelledby="reentry-label"
              data={[
                { value: String(ReentryMode.EVERY_TIME), label: 'every time' },
                { value: String(ReentryMode.ONCE), label: 'once ever' },
                { value: String(ReentryMode.COOL_DOWN), label: 'after a cool-down' },
              ]}
              value={String(settings.reentry)}
              onChange={(v) => set('reentry', Number(v) as SegmentSettings['reentry'])}
            />
          </Stack>
          {settings.reentry === ReentryMode.COOL_DOWN && (
            <>
              <NumberInput
                label="Cool-down"
                description="after the last exit"
                min={1}
                allowDecimal={false}
                value={settings.coolDown}
                onChange={(v) => set('coolDown', String(v))}
                error={errors('segment.reentry.coolDown') ?? errors('segment.reentry')}
                w={140}
              />
              <Select
                label="Cool-down unit"
                data={[...COOL_DOWN_UNITS]}
                value={settings.coolDownUnit}
                onChange={(v) => v && set('coolDownUnit', v as CoolDownUnit)}
                allowDeselect={false}
                w={130}
              />
            </>
          )}
          <TextInput
            label="Value trait"
            description="a numeric trait summed over the members, e.g. lifetime_value"
            value={settings.valueTrait}
            onChange={(e) => set('valueTrait', e.currentTarget.value)}
            error={errors('segment.valueTrait')}
            w={300}
          />
        </Group>
      </Stack>
    </Paper>
  );
}
