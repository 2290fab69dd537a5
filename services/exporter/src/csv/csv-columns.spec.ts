import { create } from '@bufbuild/protobuf';
import { CsvColumnKind, CsvColumnSchema, IdentityKind, ProfileSchema } from '@shoal/contracts';
import { parse } from 'csv-parse/sync';
import { effectiveColumns, headerRow, memberRows, neutralised } from './csv-columns';

const column = (kind: CsvColumnKind, trait = '', header = '') =>
  create(CsvColumnSchema, { kind, trait, header });

const profile = create(ProfileSchema, {
  id: 'p1',
  identities: [
    { kind: IdentityKind.USER_ID, value: 'u1' },
    { kind: IdentityKind.USER_ID, value: 'u2' },
    { kind: IdentityKind.ANONYMOUS_ID, value: 'a1' },
    { kind: IdentityKind.TRAIT, trait: 'email', value: 'ann@example.com' },
  ],
  traits: {
    name: 'Ann, "the" Buyer\nsecond line 🐟',
    plan: '=HYPERLINK("http://evil")',
    address: { city: 'Lyon' },
    orders: 3,
    vip: true,
  },
});

describe('CSV columns', () => {
  it.each(['=1+1', '+1', '-5', '@SUM(A1)', '\tx', '\rx'])(
    'neutralises %j so a spreadsheet shows it as text',
    (cell) => {
      expect(neutralised(cell)).toBe(`'${cell}`);
    },
  );

  it('leaves ordinary cells as they are', () => {
    expect(neutralised('Ann')).toBe('Ann');
    expect(neutralised('a=b')).toBe('a=b');
  });

  it('defaults to profile id and user id', () => {
    expect(effectiveColumns([]).map((c) => c.kind)).toEqual([
      CsvColumnKind.PROFILE_ID,
      CsvColumnKind.USER_ID,
    ]);
  });

  it('writes RFC 4180 rows that a strict parser reads back intact', () => {
    const columns = [
      column(CsvColumnKind.PROFILE_ID),
      column(CsvColumnKind.USER_ID),
      column(CsvColumnKind.ANONYMOUS_ID),
      column(CsvColumnKind.IDENTITY_TRAIT, 'email'),
      column(CsvColumnKind.TRAIT, 'name', 'Full name'),
      column(CsvColumnKind.TRAIT, 'plan'),
      column(CsvColumnKind.TRAIT, 'address.city'),
      column(CsvColumnKind.TRAIT, 'address'),
      column(CsvColumnKind.TRAIT, 'orders'),
      column(CsvColumnKind.TRAIT, 'missing.path'),
    ];
    const text = headerRow(columns) + memberRows(columns, [profile]);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { relax_quotes: false, relax_column_count: false }) as string[][];
    expect(rows).toEqual([
      [
        'profile_id',
        'user_id',
        'anonymous_id',
        'email',
        'Full name',
        'plan',
        'address.city',
        'address',
        'orders',
        'missing.path',
      ],
      [
        'p1',
        'u1|u2',
        'a1',
        'ann@example.com',
        'Ann, "the" Buyer\nsecond line 🐟',
        `'=HYPERLINK("http://evil")`,
        'Lyon',
        '{"city":"Lyon"}',
        '3',
        '',
      ],
    ]);
  });
});
