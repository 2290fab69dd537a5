import { create } from '@bufbuild/protobuf';
import {
  FieldViolationSchema,
  RefreshMode,
  ReentryMode,
  SegmentSchema,
  Visibility,
} from '@shoal/contracts';
import {
  DEFAULT_SETTINGS,
  type SegmentSettings,
  draftSettings,
  settingsOf,
  violationAt,
} from './segment-settings';

const everything: SegmentSettings = {
  visibility: Visibility.SHARED,
  hiddenFromUsers: ['bob'],
  hiddenFromGroups: ['interns'],
  editorUsers: ['cora'],
  editorGroups: ['marketing'],
  mode: RefreshMode.SCHEDULED,
  cron: ' 0 6 * * 1 ',
  timeZone: 'Europe/Berlin',
  reentry: ReentryMode.COOL_DOWN,
  coolDown: '14',
  coolDownUnit: 'days',
  valueTrait: 'lifetime_value',
};

describe('segment settings', () => {
  it('writes every setting a shared, scheduled segment with a cool-down has', () => {
    const { draft, errors } = draftSettings(everything);
    expect(errors).toEqual({});
    expect(draft).toEqual({
      visibility: Visibility.SHARED,
      hiddenFrom: { subjects: ['bob'], groups: ['interns'] },
      editors: { subjects: ['cora'], groups: ['marketing'] },
      refresh: { mode: RefreshMode.SCHEDULED, cron: '0 6 * * 1', timeZone: 'Europe/Berlin' },
      reentry: { mode: ReentryMode.COOL_DOWN, coolDown: { length: { case: 'days', value: 14 } } },
      valueTrait: 'lifetime_value',
    });
  });

  it('reads back what it wrote from a saved segment', () => {
    const segment = create(SegmentSchema, draftSettings(everything).draft);
    expect(settingsOf(segment)).toEqual({ ...everything, cron: '0 6 * * 1' });
  });

  it('sends no one to hide from and no editors for a private segment', () => {
    const { draft } = draftSettings({ ...everything, visibility: Visibility.PRIVATE });
    expect(draft.hiddenFrom).toEqual({ subjects: [], groups: [] });
    expect(draft.editors).toEqual({ subjects: [], groups: [] });
  });

  it('sends a schedule only with scheduled refresh, and a cool-down only with that re-entry', () => {
    const { draft } = draftSettings({
      ...everything,
      mode: RefreshMode.REALTIME,
      reentry: ReentryMode.ONCE,
    });
    expect(draft.refresh).toEqual({ mode: RefreshMode.REALTIME, cron: '', timeZone: '' });
    expect(draft.reentry).toEqual({ mode: ReentryMode.ONCE });
  });

  it('refuses a cool-down that is not a whole number of at least one', () => {
    for (const coolDown of ['', '0', '1.5', 'soon'])
      expect(draftSettings({ ...everything, coolDown }).errors).toEqual({
        'segment.reentry.coolDown': 'a whole number, at least 1',
      });
  });

  it('reads unspecified modes as the service does: shared is not assumed, realtime, every time', () => {
    expect(settingsOf(create(SegmentSchema, {}))).toEqual({
      ...DEFAULT_SETTINGS,
      visibility: Visibility.PRIVATE,
    });
  });

  it('finds the service’s violation at a field or below it', () => {
    const violations = [
      create(FieldViolationSchema, { field: 'segment.reentry.coolDown', description: 'too long' }),
      create(FieldViolationSchema, { field: 'segment.refresh.cron', description: 'bad cron' }),
    ];
    expect(violationAt(violations, 'segment.reentry')).toBe('too long');
    expect(violationAt(violations, 'segment.refresh.cron')).toBe('bad cron');
    expect(violationAt(violations, 'segment.refresh.timeZone')).toBeUndefined();
    expect(violationAt(violations, 'segment.re')).toBeUndefined();
  });
});
