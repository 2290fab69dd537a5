import {
  ExportService,
  SyncMode,
  SyncRunKind,
  TransitionKind,
  membershipChangesTopic,
} from '@shoal/contracts';
import { type GrpcClient, type RunningService, waitUntil } from '@shoal/platform';
import { TestScope } from '@shoal/testing';
import { exporterService } from '../src/service';
import { publishSegment } from './definitions';
import { PeerStubs, awkwardProfile } from './peer-stubs';
import { transitionRecord } from './topic-records';
import { fastSyncEnv } from './sync-env';
import { WebhookReceiver } from './webhook-receiver';

jest.setTimeout(120_000);

const SEGMENT = 'seg_redeliver';
const PROFILE = 'p-redeliver';

describe('dead letters sent again', () => {
  const scope = new TestScope();
  const receiver = new WebhookReceiver();
  const stubs = new PeerStubs(
    () => 0,
    (index) => (Number.isInteger(index) ? awkwardProfile(index) : undefined),
  );
  let exporter: RunningService;
  let exports: GrpcClient<typeof ExportService>;

  beforeAll(async () => {
    await receiver.start();
    const peers = await stubs.start();
    exporter = await scope.start(exporterService, fastSyncEnv(peers));
    exports = scope.client(
      ExportService,
      exporter,
      await scope.token({ subject: 'ann', groups: ['marketing'] }),
    );
    await publishSegment(scope, { id: SEGMENT, owner: 'ann', shared: true });
  });

  afterAll(async () => {
    await scope.close();
    await receiver.stop();
    await stubs.stop();
  });

  let sequence = 0;
  /** The profile's transitions as membership publishes them: one key, so one partition. */
  async function transitions(...kinds: TransitionKind[]) {
    await scope.produce(
      membershipChangesTopic,
      kinds.map((kind) => {
        sequence++;
        return transitionRecord({
          id: `tr-${PROFILE}-${sequence}`,
          kind,
          segmentId: SEGMENT,
          profileId: PROFILE,
          sequence,
        });
      }),
    );
  }

  const eventIdsIn = (body: string) =>
    (JSON.parse(body) as { records: { eventId: string }[] }).records.map((r) => r.eventId);

  it('sends a refused batch again with the same event ids, ahead of newer records, once the receiver takes it', async () => {
    // the receiver refuses the first batch for good (400), then accepts everything
    const url = receiver.script('/redeliver', [{ status: 400 }, { status: 200 }]);
    const { destination } = await exports.createDestination({
      name: 'fixed later',
      config: {
        kind: { case: 'webhook', value: { url, signingSecret: 'whsec-0123456789abcdef' } },
      },
    });
    const destinationId = destination?.id ?? '';
    // the segment's definition reaches the exporter through its topic
    expect(
      await waitUntil(
        () =>
          exports
            .linkSegment({
              destinationId,
              segmentId: SEGMENT,
              mode: SyncMode.INCREMENTAL,
              autoSync: true,
            })
            .then(
              () => true,
              () => false,
            ),
        { timeoutMs: 60_000, intervalMs: 250 },
      ),
    ).toBe(true);

    await transitions(TransitionKind.ENTERED, TransitionKind.EXITED);
    expect(
      await waitUntil(
        async () => (await exports.listDeadLetters({ destinationId })).deadLetters.length > 0,
        { timeoutMs: 30_000, intervalMs: 100 },
      ),
    ).toBe(true);
    const { deadLetters } = await exports.listDeadLetters({ destinationId });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      segmentId: SEGMENT,
      runKind: SyncRunKind.INCREMENTAL,
      error: 'HTTP 400',
      attempts: 1,
    });
    const refused = eventIdsIn(receiver.at('/redeliver')[0]?.body ?? '{}');
    expect(refused.length).toBeGreaterThan(0);

    // while auto-sync is off, a newer transition of the same profile queues up behind
    await exports.setAutoSync({ destinationId, segmentId: SEGMENT, autoSync: false });
    const requestsBefore = receiver.at('/redeliver').length;
    await transitions(TransitionKind.ENTERED);
    expect(
      await waitUntil(
        async () => {
          const { destination: now } = await exports.getDestination({ destinationId });
          return (now?.links[0]?.syncState?.pausedBacklog ?? 0n) > 0n;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      ),
    ).toBe(true);

    const ids = deadLetters.map((l) => l.id);
    const answer = await exports.redeliverDeadLetters({ destinationId, deadLetterIds: ids });
    expect(answer).toMatchObject({
      redelivered: 1,
      records: BigInt(refused.length),
      skipped: [],
      notFoundIds: [],
      remaining: 0n,
    });
    expect((await exports.listDeadLetters({ destinationId })).deadLetters).toEqual([]);
    // sent again: the dead letter is gone, so the same ids queue nothing more
    expect(await exports.redeliverDeadLetters({ destinationId, deadLetterIds: ids })).toMatchObject(
      { redelivered: 0, notFoundIds: ids },
    );

    await exports.setAutoSync({ destinationId, segmentId: SEGMENT, autoSync: true });
    const after = () =>
      receiver
        .at('/redeliver')
        .slice(requestsBefore)
        .flatMap((r) => eventIdsIn(r.body));
    expect(
      await waitUntil(() => after().length >= refused.length + 1, {
        timeoutMs: 30_000,
        intervalMs: 100,
      }),
    ).toBe(true);
    expect(after()).toEqual([...refused, `tr-${PROFILE}-${sequence}`]);
    expect((await exports.listDeadLetters({ destinationId })).deadLetters).toEqual([]);
  });
});
