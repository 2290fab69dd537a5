import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  type FieldViolation,
  RefreshMode,
  ReentryMode,
  type Segment,
  type SegmentDraftSchema,
  Visibility,
} from '@shoal/contracts';

export const COOL_DOWN_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;
export type CoolDownUnit = (typeof COOL_DOWN_UNITS)[number];

/** A segment's settings as the editor's fields hold them (text as typed). */
export interface SegmentSettings {
  readonly visibility: Visibility.PRIVATE | Visibility.SHARED;
  readonly hiddenFromUsers: readonly string[];
  readonly hiddenFromGroups: readonly string[];
  readonly editorUsers: readonly string[];
  readonly editorGroups: readonly string[];
  readonly mode: RefreshMode.REALTIME | RefreshMode.SCHEDULED | RefreshMode.MANUAL;
  readonly cron: string;
  readonly timeZone: string;
  readonly reentry: ReentryMode.EVERY_TIME | ReentryMode.ONCE | ReentryMode.COOL_DOWN;
  readonly coolDown: string;
  readonly coolDownUnit: CoolDownUnit;
  readonly valueTrait: string;
}

/** A new segment's settings: shared, real-time, entering every time the rule matches. */
export const DEFAULT_SETTINGS: SegmentSettings = {
  visibility: Visibility.SHARED,
  hiddenFromUsers: [],
  hiddenFromGroups: [],
  editorUsers: [],
  editorGroups: [],
  mode: RefreshMode.REALTIME,
  cron: '',
  timeZone: '',
  reentry: ReentryMode.EVERY_TIME,
  coolDown: '',
  coolDownUnit: 'days',
  valueTrait: '',
};

/** The settings of a saved segment, unspecified enums read as the service reads them. */
export function settingsOf(segment: Segment): SegmentSettings {
  const span = segment.reentry?.coolDown?.length;
  return {
    visibility: segment.visibility === Visibility.SHARED ? Visibility.SHARED : Visibility.PRIVATE,
    hiddenFromUsers: segment.hiddenFrom?.subjects ?? [],
    hiddenFromGroups: segment.hiddenFrom?.groups ?? [],
    editorUsers: segment.editors?.subjects ?? [],
    editorGroups: segment.editors?.groups ?? [],
    mode:
      segment.refresh?.mode === RefreshMode.SCHEDULED ||
      segment.refresh?.mode === RefreshMode.MANUAL
        ? segment.refresh.mode
        : RefreshMode.REALTIME,
    cron: segment.refresh?.cron ?? '',
    timeZone: segment.refresh?.timeZone ?? '',
    reentry:
      segment.reentry?.mode === ReentryMode.ONCE || segment.reentry?.mode === ReentryMode.COOL_DOWN
        ? segment.reentry.mode
        : ReentryMode.EVERY_TIME,
    coolDown: span?.case ? String(span.value) : '',
    coolDownUnit: span?.case ?? 'days',
    valueTrait: segment.valueTrait,
  };
}

type DraftSettings = Pick<
  MessageInitShape<typeof SegmentDraftSchema>,
  'visibility' | 'hiddenFrom' | 'editors' | 'refresh' | 'reentry' | 'valueTrait'
>;

/**
 * The draft fields the settings write, or what is wrong with them by field path (the paths
 * the segments service names, so its answers land on the same fields). Only what applies is
 * sent: a private segment hides from nobody and has no editors, a schedule only for scheduled
 * refresh, a cool-down only for that re-entry mode.
 */
export function draftSettings(settings: SegmentSettings): {
  draft: DraftSettings;
  errors: Readonly<Record<string, string>>;
} {
  const errors: Record<string, string> = {};
  const shared = settings.visibility === Visibility.SHARED;
  const scheduled = settings.mode === RefreshMode.SCHEDULED;
  let coolDown: number | undefined;
  if (settings.reentry === ReentryMode.COOL_DOWN) {
    coolDown = Number(settings.coolDown.trim());
    if (settings.coolDown.trim() === '' || !Number.isInteger(coolDown) || coolDown < 1)
      errors['segment.reentry.coolDown'] = 'a whole number, at least 1';
  }
  return {
    draft: {
      visibility: settings.visibility,
      hiddenFrom: shared
        ? { subjects: [...settings.hiddenFromUsers], groups: [...settings.hiddenFromGroups] }
        : { subjects: [], groups: [] },
      editors: shared
        ? { subjects: [...settings.editorUsers], groups: [...settings.editorGroups] }
        : { subjects: [], groups: [] },
      refresh: {
        mode: settings.mode,
        cron: scheduled ? settings.cron.trim() : '',
        timeZone: scheduled ? settings.timeZone : '',
      },
      reentry:
        settings.reentry === ReentryMode.COOL_DOWN &&
        coolDown !== undefined &&
        !errors['segment.reentry.coolDown']
          ? {
              mode: settings.reentry,
              coolDown: { length: { case: settings.coolDownUnit, value: coolDown } },
            }
          : { mode: settings.reentry },
      valueTrait: settings.valueTrait.trim(),
    },
    errors,
  };
}

/** The message of the first violation at `field` or below it, e.g. "segment.reentry". */
export function violationAt(
  violations: readonly FieldViolation[],
  field: string,
): string | undefined {
  return violations.find((v) => v.field === field || v.field.startsWith(`${field}.`))?.description;
}
