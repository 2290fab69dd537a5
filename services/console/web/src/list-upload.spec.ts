import { IdCsvReader, MAX_MEMBER_ID_LENGTH, refusedRows } from './list-upload';

/** Feeds `text` to a reader in pieces of `size` characters, as a file stream would. */
function readAll(text: string, size: number) {
  const reader = new IdCsvReader();
  const ids: { row: number; id: string }[] = [];
  const errors: { row: number; message: string }[] = [];
  for (let i = 0; i < text.length; i += size) {
    const read = reader.push(text.slice(i, i + size));
    ids.push(...read.ids);
    errors.push(...read.errors);
  }
  const last = reader.end();
  return { ids: [...ids, ...last.ids], errors: [...errors, ...last.errors] };
}

describe('reading a CSV of ids', () => {
  const file =
    'id,name\r\nuser:cora,Cora\r\n"user:dan, jr",Dan\r\n\r\nuser:erin\r\nuser:cora\r\n"user:""q"""';

  it('takes the first column of every row, skips the header, blanks and repeats', () => {
    expect(readAll(file, file.length)).toEqual({
      ids: [
        { row: 2, id: 'user:cora' },
        { row: 3, id: 'user:dan, jr' },
        { row: 5, id: 'user:erin' },
        { row: 7, id: 'user:"q"' },
      ],
      errors: [],
    });
  });

  it('reads the same however the file is cut into chunks', () => {
    const whole = readAll(file, file.length);
    for (const size of [1, 2, 3, 7, 13]) expect(readAll(file, size)).toEqual(whole);
  });

  it('reports the rows it refuses with their numbers and goes on', () => {
    const long = 'x'.repeat(MAX_MEMBER_ID_LENGTH + 1);
    expect(readAll(`a\n${long}\n"open\nb\n`, 4)).toEqual({
      ids: [
        { row: 1, id: 'a' },
        { row: 4, id: 'b' },
      ],
      errors: [
        { row: 2, message: `the id is ${MAX_MEMBER_ID_LENGTH + 1} characters; at most 256` },
        { row: 3, message: 'an unterminated quote' },
      ],
    });
  });

  it('keeps an id that merely looks like a header when it is not on the first row', () => {
    expect(readAll('a\nid\n', 100).ids.map((i) => i.id)).toEqual(['a', 'id']);
  });

  it('reads 100,000 rows in 64 KiB chunks', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `user:${i}`);
    const read = readAll(`id\n${rows.join('\n')}\n`, 65_536);
    expect(read.errors).toEqual([]);
    expect(read.ids.length).toBe(100_000);
    expect(read.ids[99_999]).toEqual({ row: 100_001, id: 'user:99999' });
  });
});

describe('rows the service refused', () => {
  const batch = [
    { row: 10, id: 'a' },
    { row: 11, id: 'b' },
  ];

  it('maps the service’s member id violations back to rows of the file', () => {
    expect(refusedRows(batch, [{ field: 'memberIds[1]', description: 'too long' }])).toEqual([
      { row: 11, message: 'too long' },
    ]);
  });

  it('gives up when a violation names no id of the batch', () => {
    expect(refusedRows(batch, [{ field: 'memberIds', description: 'too many' }])).toBeUndefined();
    expect(refusedRows(batch, [{ field: 'memberIds[5]', description: 'x' }])).toBeUndefined();
    expect(refusedRows(batch, [])).toBeUndefined();
  });
});
