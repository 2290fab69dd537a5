import {
  type DeadLetter,
  ExportService,
  SyncMode,
  TransitionKind,
  membershipChangesTopic,
  profileChangesTopic,
} from '@shoal/contracts';
import { type GrpcClient, type RunningService, waitUntil } from '@shoal/platform';
import { TestScope, eventually } from '@shoal/testing';
import type { Db } from 'mongodb';
import { exporterService } from '../src/service';
import { publishSegment } from './definitions';
import { PeerStubs, awkwardProfile, memberId } from './peer-stubs';
import { erasureRecord, eventRecord, transitionRecord } from './topic-records';
import { fastSyncEnv } from './sync-env';
import { WebhookReceiver } from './webhook-receiver';

jest.setTimeout(180_000);

const SEGMENT = 'seg_erasure';
/** Membership lists members 1–3 of the segment, so a full sync's last record is member 3. */
const MEMBERS = 3;

describe('erasure in the exporter', () => {
  const scope = new TestScope();
  const receiver = new WebhookReceiver();
  // ingestion still answers for every profile: what the exporter read before (or just after)
  // the erasure is what it must not keep
  const stubs = new PeerStubs(
    () => MEMBERS,
    (index) => (Number.isInteger(index) ? awkwardProfile(index) : undefined),
  );
  let exporter: RunningService;
  let exports: GrpcClient<typeof ExportService>;
  let db: Db;

  beforeAll(async () => {
    await receiver.start();
    const peers = await stubs.start();
    exporter = await scope.start(exporterService, fastSyncEnv(peers));
    exports = scope.client(
      ExportService,
      exporter,
      await scope.token({ subject: 'ann', groups: ['marketing'] }),
    );
    db = (await scope.mongo()).db(`t${scope.id}_exporter`);
    await publishSegment(scope, { id: SEGMENT, owner: 'ann', shared: true });
  });

  afterAll(async () => {
    await scope.close();
    await receiver.stop();
    await stubs.stop();
  });

  /** A webhook destination linked to the segment once its definition has reached the exporter. */
  async function linkedWebhook(path: string, status: number, mode: SyncMode) {
    const { destination } = await exports.createDestination({
      name: path,
      config: {
        kind: {
          case: 'webhook',
          value: {
            url: receiver.script(path, [{ status }]),
            signingSecret: 'whsec-0123456789abcdef',
          },
        },
      },
    });
    const destinationId = destination?.id ?? '';
    const linked = await waitUntil(
      () =>
        exports
          .linkSegment({
            destinationId,
            segmentId: SEGMENT,
            mode,
            autoSync: mode === SyncMode.INCREMENTAL,
            traits: ['name', 'plan'],
          })
          .then(
            () => true,
            () => false,
          ),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(linked).toBe(true);
    return destinationId;
  }

  let sequence = 0;
  const entered = (...profileIds: string[]) =>
    scope.produce(
      membershipChangesTopic,
      profileIds.map((profileId) =>
        transitionRecord({
          id: `tr-${profileId}-${++sequence}`,
          kind: TransitionKind.ENTERED,
          segmentId: SEGMENT,
          profileId,
          sequence,
        }),
      ),
    );

  const deadLettersOf = async (destinationId: string): Promise<DeadLetter[]> =>
    (await exports.listDeadLetters({ destinationId, limit: 500 })).deadLetters;
  const payloads = async (destinationId: string) =>
    (await deadLettersOf(destinationId)).map((l) => l.payload).join('\n');
  /** Everything the exporter's store holds, as text. */
  const stored = async () => {
    const texts: string[] = [];
    for (const { name } of await db.listCollections().toArray())
      texts.push(JSON.stringify(await db.collection(name).find().toArray()));
    return texts.join('\n');
  };
  /** What identifies member i in records: profile id, user id, email. */
  const traces = (i: number) => [memberId(i), `user-${i}`, `m${i}@example.com`];

  it("takes an erased person's records out of dead letters and the sync state, and nobody else's, however often the erasure arrives", async () => {
    const person = 3;
    const other = 1;
    const refusing = await linkedWebhook('/refusing', 400, SyncMode.INCREMENTAL);
    const full = await linkedWebhook('/full', 200, SyncMode.FULL);

    // a full sync's last record is the person's: the link's sync state names it
    await exports.syncNow({ destinationId: full, segmentId: SEGMENT });
    await eventually(async () => {
      const { destination } = await exports.getDestination({ destinationId: full });
      expect(destination?.links[0]?.syncState?.lastSyncedEventId).toMatch(`:${memberId(person)}`);
    }, 30_000);

    await entered(memberId(person), memberId(other));
    await eventually(async () => {
      const text = await payloads(refusing);
      for (const trace of [...traces(person), ...traces(other)]) expect(text).toContain(trace);
    }, 30_000);

    await scope.produce(profileChangesTopic, [
      eventRecord(memberId(person), 'Order Completed'),
      erasureRecord(memberId(person)),
    ]);
    await eventually(async () => {
      const text = await stored();
      for (const trace of traces(person)) expect(text).not.toContain(trace);
    }, 30_000);
    const { destination } = await exports.getDestination({ destinationId: full });
    expect(destination?.links[0]?.syncState?.lastSyncedEventId).toBe('');
    const left = await deadLettersOf(refusing);
    expect(left.reduce((sum, l) => sum + l.records, 0n)).toBe(1n);
    for (const trace of traces(other)) expect(left.map((l) => l.payload).join()).toContain(trace);

    // delivered again (a replay, a second EraseProfile): nothing more goes, nothing comes back
    await scope.produce(profileChangesTopic, [erasureRecord(memberId(person))]);
    await entered(memberId(2));
    await eventually(async () => expect(await payloads(refusing)).toContain(memberId(2)), 30_000);
    const text = await stored();
    for (const trace of traces(person)) expect(text).not.toContain(trace);
    for (const trace of traces(other)) expect(await payloads(refusing)).toContain(trace);
  });

  it('keeps nothing of a person erased before their refused batch is dead-lettered', async () => {
    const person = 5;
    const other = 6;
    const refusing = await linkedWebhook('/refusing-later', 400, SyncMode.INCREMENTAL);
    const erasures = await db.collection('erasures').countDocuments();
    await scope.produce(profileChangesTopic, [erasureRecord(memberId(person))]);
    await eventually(
      async () => expect(await db.collection('erasures').countDocuments()).toBe(erasures + 1),
      30_000,
    );

    // membership's last transitions for the person were still on their way
    await entered(memberId(person), memberId(other));
    await eventually(async () => {
      const text = await payloads(refusing);
      for (const trace of traces(other)) expect(text).toContain(trace);
    }, 30_000);
    const text = await stored();
    for (const trace of traces(person)) expect(text).not.toContain(trace);
  });
});
