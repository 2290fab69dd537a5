import { Visibility } from '@shoal/contracts';
import type { Principal } from './principal';
import { canSee } from './segment-visibility';

const user = (subject: string, groups: string[] = []): Principal => ({
  subject,
  groups,
  kind: 'user',
});

describe('who sees a segment', () => {
  it('shows a private segment to its owner only', () => {
    const segment = { owner: 'ann', visibility: Visibility.PRIVATE, hiddenFrom: undefined };
    expect(canSee(segment, user('ann'))).toBe(true);
    expect(canSee(segment, user('bob'))).toBe(false);
  });

  it('hides a shared segment from the subjects and groups it is hidden from', () => {
    const hidden = {
      owner: 'ann',
      visibility: Visibility.SHARED,
      hiddenFrom: {
        $typeName: 'shoal.v1.HiddenFrom' as const,
        subjects: ['eve'],
        groups: ['contractors'],
      },
    };
    expect(canSee(hidden, user('bob'))).toBe(true);
    expect(canSee(hidden, user('eve'))).toBe(false);
    expect(canSee(hidden, user('carl', ['staff', 'contractors']))).toBe(false);
    expect(canSee(hidden, user('ann', ['contractors']))).toBe(true);
  });

  it('shows every segment to Shoal’s services', () => {
    const segment = { owner: 'ann', visibility: Visibility.PRIVATE, hiddenFrom: undefined };
    expect(canSee(segment, { subject: 'service:exporter', groups: [], kind: 'service' })).toBe(
      true,
    );
  });
});
