import type { JsonObject } from '@bufbuild/protobuf';
import {
  Audience,
  MembershipService,
  RefreshMode,
  SegmentKind,
  Visibility,
} from '@shoal/contracts';
import type { RunningService } from '@shoal/platform';
import { arbRuleJson, ruleFromJson } from '@shoal/rules/testing';
import {
  type FuzzTarget,
  TestScope,
  eventually,
  fuzzCallers,
  fuzzUserToken,
  itAnswersArbitraryRequests,
} from '@shoal/testing';
import fc from 'fast-check';
import { MembershipHarness } from './membership-harness';
import { startMembership } from './membership-service';

const GOLD = { condition: { trait: { path: 'plan', equals: 'gold' } } };
const PROFILES = ['user:p1', 'user:p2', 'user:p3', 'user:p4', 'user:p5'];
const ACCOUNTS = ['acct:a1'];

/**
 * Segments of every kind membership meets: ann's shared realtime one (eve's group is hidden from
 * it), her private one, a manual one, one of accounts, a static list (not membership's to answer)
 * and one deleted after it had members.
 */
const SEGMENTS = {
  shared: 'seg_fz_shared',
  private: 'seg_fz_private',
  manual: 'seg_fz_manual',
  accounts: 'seg_fz_accounts',
  list: 'seg_fz_list',
  deleted: 'seg_fz_deleted',
} as const;

/** Answers only a use case gives: a success, or a refusal after reading what the request names. */
const USE_CASE_ANSWERS = ['OK', 'NOT_FOUND', 'FAILED_PRECONDITION'] as const;

describe('MembershipService and health under arbitrary requests', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  let service: RunningService;
  let membership: FuzzTarget;

  beforeAll(async () => {
    ({ service } = await startMembership(scope));
    await harness.define(SEGMENTS.shared, GOLD, { hiddenFrom: { groups: ['sales'] } });
    await harness.define(SEGMENTS.private, GOLD, { visibility: Visibility.PRIVATE });
    await harness.define(SEGMENTS.manual, GOLD, { refresh: { mode: RefreshMode.MANUAL } });
    await harness.define(
      SEGMENTS.accounts,
      { audience: 'AUDIENCE_ACCOUNTS', condition: { trait: { path: 'tier', equals: 'gold' } } },
      { audience: Audience.ACCOUNTS },
    );
    await harness.define(SEGMENTS.list, {}, { kind: SegmentKind.STATIC_LIST });
    await harness.define(SEGMENTS.deleted, GOLD);
    for (const profileId of PROFILES) await harness.traits(profileId, { plan: 'gold' });
    await harness.accountTraits(ACCOUNTS[0] as string, { tier: 'gold' });
    const callers = await fuzzCallers(scope, [
      { subject: 'ann', groups: ['marketing'] },
      { subject: 'eve', groups: ['sales'] },
    ]);
    const ann = scope.client(MembershipService, service, fuzzUserToken(callers, 'ann'));
    await eventually(async () => {
      const [{ complete } = { complete: false }] = (
        await ann.countMembers({ segmentIds: [SEGMENTS.shared] })
      ).counts;
      const { memberships } = await ann.isMember({
        profileId: PROFILES[4] as string,
        segmentIds: [SEGMENTS.shared, SEGMENTS.deleted],
      });
      expect({ complete, members: memberships.map((m) => m.member) }).toEqual({
        complete: true,
        members: [true, true],
      });
    }, 60_000);
    await harness.deleteSegment(SEGMENTS.deleted);
    // a cursor membership minted: the first member's page of one
    const cursors: string[] = [];
    for await (const page of ann.listMembers({ segmentId: SEGMENTS.shared, pageSize: 1 })) {
      cursors.push(page.cursor);
      if (cursors.length === 2) break;
    }
    const ids = Object.values(SEGMENTS);
    const strings = [...ids, ...PROFILES, ...ACCOUNTS, ...cursors, 'ann', 'eve'];
    const validRule = fc
      .oneof(
        { weight: 3, arbitrary: arbRuleJson({ depth: 2, distinctCap: 3 }) },
        { weight: 1, arbitrary: arbRuleJson({ depth: 1, distinctCap: 3, accounts: true }) },
        { weight: 1, arbitrary: fc.constant(GOLD as JsonObject) },
      )
      .map((json) => ruleFromJson(json));
    membership = {
      service: MembershipService,
      address: `127.0.0.1:${service.grpcPort}`,
      callers,
      strings,
      known: {
        fields: {
          profile_id: fc.constantFrom(...PROFILES, ...ACCOUNTS),
          segment_id: fc.constantFrom(...ids),
          segment_ids: fc.subarray(ids, { minLength: 1 }),
          cursor: fc.constantFrom(...cursors),
          page_size: fc.integer({ min: 1, max: 3 }),
          limit: fc.bigInt({ min: 0n, max: 4n }),
          sample_size: fc.integer({ min: 0, max: 5 }),
        },
        messages: { 'shoal.v1.Rule': validRule },
      },
    };
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    await scope.close();
  });

  itAnswersArbitraryRequests(MembershipService, () => membership, USE_CASE_ANSWERS);
});
