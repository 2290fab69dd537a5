import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  DeadLetterSchema,
  type DestinationConfig,
  MembershipTransitionSchema,
  SyncMode,
  SyncRunKind,
  TransitionKind,
  Visibility,
} from '@shoal/contracts';
import { DomainError, type Principal } from '@shoal/platform';
import { refusalOf } from '@shoal/testing';
import { newDestinationsTest } from '../../test/destinations-test-module';
import { DeadLettersService, MAX_REDELIVERED_PER_CALL } from './dead-letters.service';
import { DeliveryFailure } from './destination-kind';
import { DestinationsService } from './destinations.service';
import { SyncService } from './sync.service';

const ann: Principal = { subject: 'ann', groups: [], kind: 'user' };
const eve: Principal = { subject: 'eve', groups: [], kind: 'user' };
const SEGMENT = 'seg_shared';
const OTHER = 'seg_other';

const refused = () => new DeliveryFailure('HTTP 400', { permanent: true });

async function setup() {
  const { test, repository, queue, runs, states, kind } = await newDestinationsTest(
    DeadLettersService,
    {
      segments: [
        { id: SEGMENT, visibility: Visibility.SHARED },
        { id: OTHER, visibility: Visibility.SHARED },
      ],
      sync: { maxBatchWaitMs: 60_000, maxPausedBacklog: 1_000 },
    },
  );
  const destinations = test.get<DestinationsService>(DestinationsService);
  const sync = test.get<SyncService>(SyncService);
  const created = await destinations.create({
    name: 'hook',
    config: {
      kind: {
        case: 'webhook',
        value: { url: 'https://example.com/h', signingSecret: 'a-signing-secret-of-some-length' },
      },
    } as unknown as DestinationConfig,
    principal: ann,
  });
  const id = created.id;
  await destinations.link({
    id,
    segmentId: SEGMENT,
    mode: SyncMode.INCREMENTAL,
    autoSync: true,
    principal: ann,
  });

  let offset = 0;
  /** Transitions consumed from partition 0, in order, for the linked segment. */
  const consume = (...records: [profileId: string, sequence: number][]) =>
    sync.enqueue(
      records.map(([profileId, sequence]) => ({
        transition: create(MembershipTransitionSchema, {
          id: `t-${profileId}-${sequence}`,
          kind: TransitionKind.ENTERED,
          segmentId: SEGMENT,
          profileId,
          sequence: BigInt(sequence),
          occurredAt: timestampFromDate(new Date('2026-12-01T00:00:00Z')),
        }),
        partition: 0,
        offset: ++offset,
      })),
    );
  /** Delivers what is queued (the batch wait elapsed), whatever the receiver answers. */
  const drain = async () => {
    test.clock.advance(60_000);
    await sync.drain(repository.stored.get(id)!, new AbortController().signal);
  };
  /** Dead letters one batch of the given records: the receiver refuses it for good. */
  const deadLetter = async (...records: [profileId: string, sequence: number][]) => {
    await consume(...records);
    kind.outcomes = [refused()];
    await drain();
    return runs.letters.at(-1)!.id;
  };
  const redeliver = (deadLetterIds: string[], principal: Principal = ann) =>
    test.sut.redeliver({ destinationId: id, deadLetterIds, principal });
  const eventIds = () => kind.delivered.flatMap((b) => b.records.map((r) => r.eventId));
  return {
    ...test,
    id,
    destinations,
    sync,
    queue,
    runs,
    states,
    kind,
    consume,
    drain,
    deadLetter,
    redeliver,
    eventIds,
  };
}

describe('DeadLettersService', () => {
  it("queues a dead letter's records again with their event ids, and removes it once queued", async () => {
    const { deadLetter, redeliver, drain, runs, queue, eventIds } = await setup();
    const letter = await deadLetter(['p1', 1], ['p2', 2]);
    expect(runs.letters).toMatchObject([{ segmentId: SEGMENT, runKind: SyncRunKind.INCREMENTAL }]);

    const answer = await redeliver([letter]);
    expect(answer).toMatchObject({ redelivered: 1, records: 2n, skipped: [], notFoundIds: [] });
    expect(queue.queued.size).toBe(2);
    expect(runs.letters).toEqual([]);
    await drain();
    expect(eventIds()).toEqual(['t-p1-1', 't-p2-2']);
    expect(queue.queued.size).toBe(0);
  });

  it('puts the records back in their original order, ahead of newer records of the same profile', async () => {
    const { deadLetter, consume, redeliver, drain, eventIds } = await setup();
    const letter = await deadLetter(['p1', 1], ['p1', 2]);
    await consume(['p1', 3]);
    await redeliver([letter]);
    await drain();
    expect(eventIds()).toEqual(['t-p1-1', 't-p1-2', 't-p1-3']);
  });

  it('keeps the dead letter when removing it fails after its records were queued, and a retry queues them once', async () => {
    const { deadLetter, redeliver, drain, runs, queue, eventIds } = await setup();
    const letter = await deadLetter(['p1', 1], ['p2', 2]);
    const remove = runs.removeDeadLetters.bind(runs);
    runs.removeDeadLetters = async () => {
      throw new Error('store unavailable');
    };
    await expect(redeliver([letter])).rejects.toThrow('store unavailable');
    expect(queue.queued.size).toBe(2);
    expect(runs.letters.map((l) => l.id)).toEqual([letter]);

    runs.removeDeadLetters = remove;
    expect(await redeliver([letter])).toMatchObject({ redelivered: 1 });
    expect(queue.queued.size).toBe(2);
    expect(runs.letters).toEqual([]);
    await drain();
    expect(eventIds()).toEqual(['t-p1-1', 't-p2-2']);
  });

  it('queues a dead letter named twice, or redelivered twice, once', async () => {
    const { deadLetter, redeliver, queue } = await setup();
    const letter = await deadLetter(['p1', 1]);
    expect(await redeliver([letter, letter])).toMatchObject({ redelivered: 1, records: 1n });
    expect(await redeliver([letter])).toMatchObject({
      redelivered: 0,
      records: 0n,
      notFoundIds: [letter],
    });
    expect(queue.queued.size).toBe(1);
  });

  it('dead-letters a redelivered batch that fails again, with its new error', async () => {
    const { deadLetter, redeliver, drain, runs, kind } = await setup();
    const letter = await deadLetter(['p1', 1]);
    await redeliver([letter]);
    kind.outcomes = [new DeliveryFailure('HTTP 410', { permanent: true })];
    await drain();
    expect(runs.letters).toHaveLength(1);
    expect(runs.letters[0]).toMatchObject({ error: 'HTTP 410', records: 1n });
    expect(runs.letters[0]?.id).not.toBe(letter);
    expect(JSON.parse(runs.letters[0]?.payload ?? '[]')).toMatchObject([{ eventId: 't-p1-1' }]);
  });

  it('skips a dead letter whose segment is no longer linked, saying why, and leaves it', async () => {
    const { deadLetter, redeliver, destinations, id, runs, queue } = await setup();
    const letter = await deadLetter(['p1', 1]);
    await destinations.unlink({ id, segmentId: SEGMENT, principal: ann });
    const answer = await redeliver([letter]);
    expect(answer).toMatchObject({ redelivered: 0, records: 0n, remaining: 0n });
    expect(answer.skipped).toEqual([
      expect.objectContaining({
        deadLetterId: letter,
        reason: expect.stringContaining('no longer linked'),
      }),
    ]);
    expect(runs.letters.map((l) => l.id)).toEqual([letter]);
    expect(queue.queued.size).toBe(0);
    expect(await redeliver([])).toMatchObject({ redelivered: 0, skipped: [], remaining: 0n });
  });

  it('skips a dead letter of a full sync: a new full sync sends the current members instead', async () => {
    const { redeliver, runs, id } = await setup();
    await runs.deadLetter(
      create(DeadLetterSchema, {
        id: 'run_full/1',
        destinationId: id,
        runId: 'run_full',
        segmentId: SEGMENT,
        runKind: SyncRunKind.FULL,
        payload: JSON.stringify([
          { eventId: 'run_full:p1', type: 'member', segmentId: SEGMENT, profileId: 'p1' },
        ]),
        records: 1n,
      }),
    );
    const answer = await redeliver(['run_full/1']);
    expect(answer.skipped).toEqual([
      expect.objectContaining({
        deadLetterId: 'run_full/1',
        reason: expect.stringMatching(/full sync/),
      }),
    ]);
    expect(await redeliver([])).toMatchObject({ redelivered: 0, remaining: 0n });
    expect(runs.letters).toHaveLength(1);
  });

  it('reports ids that are not dead letters of the destination instead of refusing the call', async () => {
    const { deadLetter, redeliver, destinations, runs } = await setup();
    const letter = await deadLetter(['p1', 1]);
    const other = await destinations.create({
      name: 'other',
      config: {
        kind: {
          case: 'webhook',
          value: { url: 'https://example.com/o', signingSecret: 'a-signing-secret-of-some-length' },
        },
      } as unknown as DestinationConfig,
      principal: ann,
    });
    await runs.deadLetter(
      create(DeadLetterSchema, { id: 'theirs', destinationId: other.id, segmentId: SEGMENT }),
    );
    const answer = await redeliver(['nope', 'theirs', letter]);
    expect(answer).toMatchObject({ redelivered: 1, notFoundIds: ['nope', 'theirs'] });
    expect(runs.letters.map((l) => l.id)).toEqual(['theirs']);
  });

  it("is NOT_FOUND for another user's destination, and redelivers nothing of it", async () => {
    const { deadLetter, redeliver, runs } = await setup();
    const letter = await deadLetter(['p1', 1]);
    const refusal = await refusalOf(redeliver([letter], eve), DomainError);
    expect(refusal.reason).toBe('DESTINATION_NOT_FOUND');
    expect(await refusalOf(redeliver([], eve), DomainError)).toMatchObject({
      reason: 'DESTINATION_NOT_FOUND',
    });
    expect(runs.letters).toHaveLength(1);
  });

  it('refuses a blank destination, blank or overlong ids and too many ids, naming each field', async () => {
    const { sut } = await setup();
    const refusal = await refusalOf(
      sut.redeliver({
        destinationId: '',
        deadLetterIds: ['ok', '', 'x'.repeat(201)],
        principal: ann,
      }),
      DomainError,
    );
    expect(refusal.violations.map((v) => v.field)).toEqual([
      'destinationId',
      'deadLetterIds[1]',
      'deadLetterIds[2]',
    ]);
    const many = await refusalOf(
      sut.redeliver({
        destinationId: 'dst_x',
        deadLetterIds: Array.from({ length: MAX_REDELIVERED_PER_CALL + 1 }, (_, i) => `l${i}`),
        principal: ann,
      }),
      DomainError,
    );
    expect(many.violations.map((v) => v.field)).toEqual(['deadLetterIds']);
  });

  it('without ids, redelivers the oldest dead letters up to the bound of a call and counts those left', async () => {
    const { redeliver, runs, queue, id } = await setup();
    const total = MAX_REDELIVERED_PER_CALL + 5;
    for (let i = 0; i < total; i++)
      await runs.deadLetter(
        create(DeadLetterSchema, {
          id: `run_${i}/1`,
          destinationId: id,
          runId: `run_${i}`,
          segmentId: SEGMENT,
          runKind: SyncRunKind.INCREMENTAL,
          payload: JSON.stringify([
            {
              eventId: `t-${i}`,
              type: 'entered',
              segmentId: SEGMENT,
              profileId: `p${i}`,
              occurredAt: '2026-12-01T00:00:00.000Z',
            },
          ]),
          records: 1n,
        }),
        [{ partition: 0, offset: i }],
      );
    expect(await redeliver([])).toMatchObject({
      redelivered: MAX_REDELIVERED_PER_CALL,
      remaining: 5n,
    });
    expect(runs.letters.map((l) => l.id)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `run_${MAX_REDELIVERED_PER_CALL + i}/1`),
    );
    expect(await redeliver([])).toMatchObject({ redelivered: 5, remaining: 0n });
    expect(queue.queued.size).toBe(total);
  });

  it("keeps a paused link's redelivered records in its backlog until auto-sync is on", async () => {
    const { deadLetter, redeliver, destinations, drain, states, kind, id, eventIds } =
      await setup();
    const letter = await deadLetter(['p1', 1], ['p2', 2]);
    await destinations.setAutoSync({ id, segmentId: SEGMENT, autoSync: false, principal: ann });
    await redeliver([letter]);
    await drain();
    expect(kind.delivered).toEqual([]);
    expect(await states.get(id, SEGMENT)).toMatchObject({ pausedBacklog: 2 });
    await destinations.setAutoSync({ id, segmentId: SEGMENT, autoSync: true, principal: ann });
    await drain();
    expect(eventIds()).toEqual(['t-p1-1', 't-p2-2']);
  });

  it('without ids, sends dead letters stored without queue positions ahead of the queue, oldest first, each in its stored order', async () => {
    const { redeliver, runs, consume, drain, id, eventIds } = await setup();
    const legacy = (name: string, at: string, ...profiles: string[]) =>
      runs.deadLetter(
        create(DeadLetterSchema, {
          id: `${name}/1`,
          destinationId: id,
          runId: name,
          segmentId: SEGMENT,
          runKind: SyncRunKind.INCREMENTAL,
          deadLetteredAt: timestampFromDate(new Date(at)),
          payload: JSON.stringify(
            profiles.map((profileId) => ({
              eventId: `${name}-${profileId}`,
              type: 'exited',
              segmentId: SEGMENT,
              profileId,
              occurredAt: '2026-11-01T00:00:00.000Z',
            })),
          ),
          records: BigInt(profiles.length),
        }),
      );
    await legacy('run_old', '2026-11-01T00:00:00Z', 'p1', 'p2');
    await legacy('run_older', '2026-10-01T00:00:00Z', 'p3', 'p4');
    await consume(['p5', 1]);
    expect(await redeliver([])).toMatchObject({ redelivered: 2, records: 4n, remaining: 0n });
    await drain();
    expect(eventIds()).toEqual([
      'run_older-p3',
      'run_older-p4',
      'run_old-p1',
      'run_old-p2',
      't-p5-1',
    ]);
  });
});
