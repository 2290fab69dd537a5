import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { devPageTokenSecret } from '../auth/token-signer';
import { ConfigError } from '../config/config';
import { ValidationError } from '../errors/domain-error';
import { PageTokens, loadPageTokenSecrets, pageCursor } from './page-token';

const SECRET = 'a-test-secret-that-is-long-enough-for-hmac';
const OTHER_SECRET = 'another-secret-that-is-also-long-enough!!';

const listPosition = pageCursor(
  'segments.list',
  z.strictObject({ value: z.union([z.string(), z.number()]), id: z.string() }),
);
const memberPosition = pageCursor('lists.members', z.string());
const query = { listId: 'l1', search: 'vip' };

function refusedField(decode: () => unknown): string | undefined {
  try {
    decode();
  } catch (error) {
    if (error instanceof ValidationError) return error.violations[0]?.field;
    throw error;
  }
  return undefined;
}

describe('page tokens', () => {
  const tokens = new PageTokens([SECRET]);

  it('carries a position to the next page of the same query', () => {
    const token = tokens.encode(listPosition, { value: 'beta', id: 's-2' }, query);
    expect(tokens.decode(listPosition, token, query)).toEqual({ value: 'beta', id: 's-2' });
    const member = tokens.encode(memberPosition, 'm-7', query);
    expect(tokens.decode(memberPosition, member, query)).toBe('m-7');
  });

  it('means the first page when there is no token', () => {
    expect(tokens.decode(listPosition, '', query)).toBeUndefined();
  });

  it('refuses a hand-made token, naming the field', () => {
    const unsigned = Buffer.from(JSON.stringify({ p: { $gt: '' }, q: 'x' })).toString('base64url');
    expect(refusedField(() => tokens.decode(memberPosition, unsigned, query))).toBe(
      'page.pageToken',
    );
    expect(
      refusedField(() => tokens.decode(memberPosition, `${unsigned}.AAAA`, query, 'after')),
    ).toBe('after');
  });

  it('refuses a token whose position was changed after signing', () => {
    const token = tokens.encode(memberPosition, 'm-1', query);
    const [, signature] = token.split('.');
    const changed = tokens.encode(memberPosition, 'm-9', query).split('.')[0];
    expect(
      refusedField(() => tokens.decode(memberPosition, `${changed}.${signature}`, query)),
    ).toBe('page.pageToken');
  });

  it('refuses a token minted with another secret, and accepts one while its secret is still listed', () => {
    const foreign = new PageTokens([OTHER_SECRET]).encode(memberPosition, 'm-1', query);
    expect(refusedField(() => tokens.decode(memberPosition, foreign, query))).toBe(
      'page.pageToken',
    );
    const rotated = new PageTokens([SECRET, OTHER_SECRET]);
    expect(rotated.decode(memberPosition, foreign, query)).toBe('m-1');
    expect(rotated.encode(memberPosition, 'm-1', query)).toBe(
      tokens.encode(memberPosition, 'm-1', query),
    );
  });

  it('refuses a token of another query or another list call', () => {
    const token = tokens.encode(memberPosition, 'm-1', query);
    expect(
      refusedField(() => tokens.decode(memberPosition, token, { ...query, search: 'other' })),
    ).toBe('page.pageToken');
    const elsewhere = pageCursor('history', z.string());
    expect(refusedField(() => tokens.decode(elsewhere, token, query))).toBe('page.pageToken');
  });

  it('never yields a position outside its schema, even from a correctly signed token', () => {
    const loose = pageCursor('segments.list', z.unknown());
    for (const position of [
      { value: { $gt: '' }, id: 's-1' },
      { value: 'a', id: { $ne: null } },
      { value: 'a', id: 's-1', $where: 'sleep(1000)' },
      { $foo: 1 },
    ]) {
      const token = tokens.encode(loose, position, query);
      expect(refusedField(() => tokens.decode(listPosition, token, query))).toBe('page.pageToken');
    }
  });

  it('refuses garbage and over-long tokens', () => {
    for (const garbage of ['.', 'a.b.c', '%%%.$$$', 'x'.repeat(100_000)]) {
      expect(refusedField(() => tokens.decode(memberPosition, garbage, query))).toBe(
        'page.pageToken',
      );
    }
  });
});

describe('page-token secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-page-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const problem = async (path: string, environment = 'development') => {
    const error = await loadPageTokenSecrets(path, environment).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`)[0];
  };

  it('reads one secret per line, the first one signing', async () => {
    await expect(
      loadPageTokenSecrets(file('two', `${SECRET}\n\n${OTHER_SECRET}\n`), 'test'),
    ).resolves.toEqual([SECRET, OTHER_SECRET]);
  });

  it('refuses a missing, empty or short secret', async () => {
    expect(await problem(join(dir, 'absent'))).toMatch(/^PAGE_TOKEN_SECRET_FILE: cannot read/);
    expect(await problem(file('empty', '\n'))).toMatch(/holds no secret/);
    expect(await problem(file('short', 'too-short'))).toMatch(/at least 32 bytes/);
  });

  it('refuses a development secret in production', async () => {
    const dev = file('dev', devPageTokenSecret());
    await expect(loadPageTokenSecrets(dev, 'development')).resolves.toHaveLength(1);
    expect(await problem(dev, 'production')).toMatch(/development secret/);
  });
});
