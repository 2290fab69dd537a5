import { create } from '@bufbuild/protobuf';
import { EditorsSchema, HiddenFromSchema, Visibility } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { canEdit, canSee, isOwner, seenByEveryoneWhoSees } from './access';

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

describe('who changes a segment', () => {
  const segment = {
    owner: 'ann',
    visibility: Visibility.SHARED,
    hiddenFrom: create(HiddenFromSchema, { subjects: ['eve'] }),
    editors: create(EditorsSchema, { subjects: ['bob', 'eve'], groups: ['analysts'] }),
  };

  it('lets the owner and the named editors change it, not everyone who sees it', () => {
    expect(canEdit(segment, user('ann'))).toBe(true);
    expect(canEdit(segment, user('bob'))).toBe(true);
    expect(canEdit(segment, user('carl', ['analysts']))).toBe(true);
    expect(canEdit(segment, user('dora', ['marketing']))).toBe(false);
    expect(canEdit({ ...segment, editors: undefined }, user('bob'))).toBe(false);
  });

  it('never lets an editor change what they cannot see', () => {
    expect(canEdit(segment, user('eve'))).toBe(false);
    expect(canEdit({ ...segment, visibility: Visibility.PRIVATE }, user('bob'))).toBe(false);
  });
});

describe('which segments a segment may use', () => {
  const seg = (
    owner: string,
    visibility: Visibility,
    subjects: string[] = [],
    groups: string[] = [],
  ) => ({
    owner,
    visibility,
    hiddenFrom: create(HiddenFromSchema, { subjects, groups }),
  });
  const { PRIVATE, SHARED } = Visibility;

  it.each([
    ['a private one its owner sees', true, seg('ann', PRIVATE), seg('ann', PRIVATE), []],
    ['someone else’s shared one the owner sees', true, seg('ann', PRIVATE), seg('bob', SHARED), []],
    [
      'a shared one hidden from the owner’s group',
      false,
      seg('ann', PRIVATE),
      seg('bob', SHARED, [], ['sales']),
      ['sales'],
    ],
    ['a private one, when shared', false, seg('ann', SHARED), seg('ann', PRIVATE), []],
    ['a shared one hidden from nobody', true, seg('ann', SHARED, ['eve']), seg('bob', SHARED), []],
    [
      'a shared one hidden from the same people',
      true,
      seg('ann', SHARED, ['eve'], ['sales']),
      seg('bob', SHARED, ['eve'], ['sales']),
      [],
    ],
    [
      'a shared one hidden from more people',
      false,
      seg('ann', SHARED, ['eve']),
      seg('bob', SHARED, ['eve', 'carl']),
      [],
    ],
    [
      'a shared one hidden from another group',
      false,
      seg('ann', SHARED, [], ['sales']),
      seg('bob', SHARED, [], ['hr']),
      [],
    ],
    [
      'a shared one hidden from the referrer’s owner',
      false,
      seg('ann', SHARED),
      seg('bob', SHARED, ['ann']),
      [],
    ],
    [
      'a shared one whose deny list also names its own owner',
      true,
      seg('ann', SHARED, ['eve']),
      seg('bob', SHARED, ['bob', 'eve']),
      [],
    ],
  ] as const)('using %s: %s', (_name, allowed, referrer, target, ownerGroups) => {
    expect(seenByEveryoneWhoSees({ target, referrer, referrerOwnerGroups: ownerGroups })).toBe(
      allowed,
    );
  });
});
