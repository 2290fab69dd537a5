import { create } from '@bufbuild/protobuf';
import { IsMemberResponseSchema, type IsMemberRequest } from '@shoal/contracts';
import { EXIT, parseCommandLine } from '../command-line';
import type { ShoalClients } from './connection';
import { runApiCommand } from './run-api-command';

/** `members is-member` against a membership that knows who is in which segment. */
async function isMember(members: Record<string, string[]>, segmentIds: string[], json = false) {
  let stdout = '';
  const membership = {
    isMember: async (request: IsMemberRequest) =>
      create(IsMemberResponseSchema, {
        memberships: request.segmentIds.map((segmentId) => ({
          segmentId,
          member: (members[segmentId] ?? []).includes(request.profileId),
        })),
      }),
  };
  const code = await runApiCommand(
    { name: 'members is-member', profileId: 'user:ann', segmentIds },
    json,
    {
      clients: { membership } as unknown as ShoalClients,
      out: (text) => (stdout += text),
      progress: { update: () => {}, done: () => {} },
      kafkaBrokers: [],
      topicPrefix: '',
      signal: new AbortController().signal,
    },
  );
  return { code, stdout };
}

describe('./shoal members is-member', () => {
  const members = { seg_a: ['user:ann'], seg_b: ['user:ann'], seg_c: [] };

  it('exits 0 when the profile is a member of every segment asked about', async () => {
    expect((await isMember(members, ['seg_a'])).code).toBe(EXIT.ok);
    expect((await isMember(members, ['seg_a', 'seg_b'], true)).code).toBe(EXIT.ok);
  });

  it('exits 1 when it is not a member of one of them, and still prints every answer', async () => {
    expect((await isMember(members, ['seg_c'])).code).toBe(EXIT.notAMember);
    const { code, stdout } = await isMember(members, ['seg_a', 'seg_c']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^seg_a\s+yes\s/m);
    expect(stdout).toMatch(/^seg_c\s+no\s/m);
  });

  it('says so in its help', () => {
    let stdout = '';
    parseCommandLine(['members', 'is-member', '--help'], {
      out: (text) => (stdout += text),
      err: () => {},
    });
    expect(stdout).toMatch(/exits 0 when .*a member.*, 1 when .*not/is);
  });
});
