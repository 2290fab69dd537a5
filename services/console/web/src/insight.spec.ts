import { create } from '@bufbuild/protobuf';
import { IdentityKind, ProfileSchema, RefreshJobSchema } from '@shoal/contracts';
import { cellOf, changeText, jobProgress, membersCsvHref, offeredColumns } from './insight';

describe('30-day change', () => {
  it('shows growth and shrinkage with their sign and percentage', () => {
    expect(changeText({ change30d: 1200n, change30dPercent: 4.54 })).toBe('+1,200 (+4.5%)');
    expect(changeText({ change30d: -3n, change30dPercent: -50 })).toBe('−3 (−50.0%)');
    expect(changeText({ change30d: 0n, change30dPercent: 0 })).toBe('0 (0.0%)');
  });

  it('shows the count alone when the snapshot was empty, and a dash without one', () => {
    expect(changeText({ change30d: 7n })).toBe('+7');
    expect(changeText({})).toBe('—');
  });
});

describe('job progress', () => {
  it('gives the share processed and the counts in words', () => {
    const job = create(RefreshJobSchema, {
      processed: 250n,
      total: 1000n,
      entered: 12n,
      exited: 3n,
      partitionsDone: 1,
      partitionCount: 4,
    });
    expect(jobProgress(job)).toEqual({
      percent: 25,
      label: '250 of 1,000 profiles · 12 entered · 3 exited · 1 of 4 partitions',
    });
  });

  it('has no share while the total is unknown', () => {
    expect(jobProgress(create(RefreshJobSchema, { processed: 5n }))).toEqual({
      label: '5 profiles · 0 entered · 0 exited',
    });
  });
});

describe('members columns', () => {
  const profile = create(ProfileSchema, {
    id: 'user:cora',
    identities: [
      { kind: IdentityKind.USER_ID, value: 'cora' },
      { kind: IdentityKind.TRAIT, trait: 'email', value: 'cora@example.com' },
      { kind: IdentityKind.TRAIT, trait: 'email', value: 'c@example.org' },
    ],
    traits: { plan: 'gold', address: { city: 'Kiel' }, ltv: 900, 'odd key': 1 },
  });

  it('fills identity columns with every identifier of that trait', () => {
    expect(cellOf(profile, 'identity:email')).toBe('cora@example.com, c@example.org');
    expect(cellOf(profile, 'identity:phone')).toBe('');
  });

  it('fills trait columns by dotted path, numbers and objects as JSON', () => {
    expect(cellOf(profile, 'trait:plan')).toBe('gold');
    expect(cellOf(profile, 'trait:address.city')).toBe('Kiel');
    expect(cellOf(profile, 'trait:ltv')).toBe('900');
    expect(cellOf(profile, 'trait:address')).toBe('{"city":"Kiel"}');
    expect(cellOf(profile, 'trait:plan.tier')).toBe('');
  });

  it('leaves a cell empty for an unknown column or a profile not loaded', () => {
    expect(cellOf(profile, 'plan')).toBe('');
    expect(cellOf(undefined, 'trait:plan')).toBe('');
  });

  it('offers the identifier traits and top-level traits the profiles have', () => {
    expect(offeredColumns([profile])).toEqual([
      'identity:email',
      'trait:address',
      'trait:ltv',
      'trait:plan',
    ]);
  });

  it('downloads the profile id and the chosen columns, dropping malformed ones', () => {
    expect(membersCsvHref('seg_1', ['identity:email', 'trait:address.city', 'bad column'])).toBe(
      '/download/segments/seg_1/members.csv?columns=profile_id,identity%3Aemail,trait%3Aaddress.city',
    );
  });
});
