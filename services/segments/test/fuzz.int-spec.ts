import { SegmentService } from '@shoal/contracts';
import {
  type FuzzCaller,
  eventually,
  fuzzCallers,
  fuzzRpcToUseCase,
  rpcNames,
} from '@shoal/testing';
import { type SegmentFixture, fixtureStrings, knownValues, segmentFixture } from './segment-fuzz';
import { segmentsForTests } from './segments-for-tests';

/** Answers only a use case gives: a success, or a refusal after reading what the request names. */
const USE_CASE_ANSWERS = [
  'OK',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'ABORTED',
  'PERMISSION_DENIED',
] as const;

describe('SegmentService under arbitrary requests', () => {
  const running = segmentsForTests();
  const { scope, c } = running;
  let callers: FuzzCaller[];
  let fixture: SegmentFixture;
  let fixtures = 0;

  beforeAll(async () => {
    // ann owns the fixture, bob edits what marketing may edit, eve is in sales (hidden from)
    callers = await fuzzCallers(scope, [
      // the owner calls most, so that more requests get as far as a change
      { subject: 'ann', groups: ['marketing'], weight: 12 },
      { subject: 'bob', groups: ['marketing'] },
      { subject: 'eve', groups: ['sales'] },
    ]);
  });
  // each RPC works on segments of its own, whatever the RPCs before it changed
  beforeEach(async () => {
    fixtures += 1;
    fixture = await segmentFixture(c, `fz${fixtures}`);
  });
  // whatever a run was allowed to change, the service publishes: nothing failed, nothing stuck
  afterEach(() => eventually(async () => expect(await unpublished()).toEqual([]), 60_000));

  it.each(rpcNames(SegmentService))(
    '%s answers every request, never INTERNAL, UNKNOWN or late, and reaches its use case',
    (rpc) =>
      fuzzRpcToUseCase(
        {
          service: SegmentService,
          address: `127.0.0.1:${running.service.grpcPort}`,
          callers,
          strings: fixtureStrings(fixture),
          known: knownValues(fixture),
        },
        rpc,
        USE_CASE_ANSWERS,
      ),
  );

  /** Definitions and list member changes not yet published, and definitions that failed to be. */
  async function unpublished(): Promise<string[]> {
    const db = (await scope.mongo()).db(`t${scope.id}_segments`);
    const segments = await db
      .collection<{ _id: string; publishFailure?: { error: string } }>('segments')
      .find({
        $or: [{ 'pendingChanges.0': { $exists: true } }, { publishFailure: { $exists: true } }],
      })
      .toArray();
    const lists = await db
      .collection<{ _id: string }>('list_heads')
      .find({ 'outbox.0': { $exists: true } })
      .toArray();
    return [
      ...segments.map((s) => `segment ${s._id}: ${s.publishFailure?.error ?? 'pending'}`),
      ...lists.map((l) => `list ${l._id}: member changes pending`),
    ];
  }
});
