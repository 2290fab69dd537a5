import { Visibility } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { canSee, isOwner } from './access';

const user = (subject: string, groups: string[] = []): Principal => ({
  subject,
  groups,
  kind: 'user',
});
const shared = { owner: 'ann', visibility: Visibility.SHARED, hiddenFrom: undefined };

describe('who sees a segment', () => {
  it('shows a private segment to its owner only', () => {
    const segment = { owner: 'ann', visibility: Visibility.PRIVATE, hiddenFrom: undefined };
    expect(canSee(segment, user('ann'))).toBe(true);
    expect(canSee(segment, user('bob'))).toBe(false);
  });

  it('shows a shared segment to everyone not on its deny list', () => {
    const hidden = {
      ...shared,
      hiddenFrom: {
        $typeName: 'shoal.v1.HiddenFrom' as const,
        subjects: ['eve'],
        groups: ['contractors'],
      },
    };
    expect(canSee(shared, user('bob'))).toBe(true);
    expect(canSee(hidden, user('eve'))).toBe(false);
    expect(canSee(hidden, user('carl', ['staff', 'contractors']))).toBe(false);
    expect(canSee(hidden, user('ann', ['contractors']))).toBe(true);
  });

  it('lets Shoal services see everything', () => {
    const segment = { owner: 'ann', visibility: Visibility.PRIVATE, hiddenFrom: undefined };
    expect(
      canSee(segment, {
        subject: 'service:membership',
        groups: [],
        kind: 'service',
        service: 'membership',
      }),
    ).toBe(true);
    expect(isOwner(segment, user('ann'))).toBe(true);
  });
});
