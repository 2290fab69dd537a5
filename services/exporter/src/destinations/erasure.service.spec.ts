import { create, toBinary } from '@bufbuild/protobuf';
import { DeadLetterSchema, ProfileChangeSchema, SyncRunKind, Visibility } from '@shoal/contracts';
import type { KafkaMessage } from 'kafkajs';
import { newDestinationsTest } from '../../test/destinations-test-module';
import { ERASURE_GRACE_MS, ErasureService } from './erasure.service';
import { ErasuresConsumer } from './erasures.consumer';

const SEGMENT = 'seg_shared';

const record = (profileId: string, n: number) => ({
  eventId: `t-${profileId}-${n}`,
  type: 'entered',
  segmentId: SEGMENT,
  profileId,
  occurredAt: '2026-12-01T00:00:00.000Z',
  identities: { userIds: [`user-${profileId}`], emails: [`${profileId}@example.com`] },
});
const letter = (id: string, ...records: ReturnType<typeof record>[]) =>
  create(DeadLetterSchema, {
    id,
    destinationId: 'dst_1',
    runId: id.split('/')[0],
    segmentId: SEGMENT,
    runKind: SyncRunKind.INCREMENTAL,
    payload: JSON.stringify(records),
    records: BigInt(records.length),
  });

async function setup() {
  const t = await newDestinationsTest(ErasureService, {
    segments: [{ id: SEGMENT, visibility: Visibility.SHARED }],
  });
  return { ...t, erasure: t.test.sut };
}

describe('ErasureService', () => {
  it("takes an erased profile's records out of dead letters, keeping the others where they stood", async () => {
    const { erasure, runs } = await setup();
    await runs.deadLetter(letter('run_a/1', record('p1', 1), record('p2', 2), record('p1', 3)), [
      { partition: 0, offset: 1 },
      { partition: 1, offset: 1 },
      { partition: 0, offset: 2 },
    ]);
    await runs.deadLetter(letter('run_b/1', record('p1', 4)), [{ partition: 0, offset: 5 }]);
    await runs.deadLetter(letter('run_c/1', record('p3', 1)), [{ partition: 2, offset: 1 }]);

    await erasure.erase(['p1']);
    expect(runs.letters.map((l) => l.id)).toEqual(['run_a/1', 'run_c/1']);
    const [kept] = await runs.deadLettersById('dst_1', ['run_a/1']);
    expect(kept?.letter.records).toBe(1n);
    expect(kept?.letter.payload).not.toContain('p1');
    expect(JSON.parse(kept?.letter.payload ?? '')).toEqual([record('p2', 2)]);
    expect(kept?.positions).toEqual([{ partition: 1, offset: 1 }]);

    await erasure.erase(['p1']);
    expect(runs.letters.map((l) => l.id)).toEqual(['run_a/1', 'run_c/1']);
    expect((await runs.deadLettersById('dst_1', ['run_a/1']))[0]?.letter.records).toBe(1n);
  });

  it("forgets a full sync's last record of the erased profile in a link's sync state", async () => {
    const { erasure, states } = await setup();
    const at = new Date('2026-12-01T00:00:00Z');
    await states.delivered('dst_1', SEGMENT, { at, eventId: 'run_x:p1', records: 3 });
    await states.delivered('dst_2', SEGMENT, { at, eventId: 'run_y:p10', records: 3 });
    await erasure.erase(['p1']);
    expect((await states.get('dst_1', SEGMENT))?.lastSyncedEventId).toBe('');
    expect((await states.get('dst_2', SEGMENT))?.lastSyncedEventId).toBe('run_y:p10');
  });

  it('cleans a dead letter written after the erasure from records read before it, but not a later life of the id', async () => {
    const { erasure, runs, test } = await setup();
    await erasure.erase(['p1']);
    const readBefore = new Date(test.clock.now().getTime() - 60_000);
    const stored = { letter: letter('run_a/1', record('p1', 1), record('p2', 1)), positions: [] };
    await runs.deadLetter(stored.letter);
    await erasure.deadLettered(stored, readBefore);
    expect(runs.letters[0]?.payload).not.toContain('p1');

    const readLongAfter = new Date(test.clock.now().getTime() + ERASURE_GRACE_MS + 1);
    const later = { letter: letter('run_b/1', record('p1', 9)), positions: [] };
    await runs.deadLetter(later.letter);
    await erasure.deadLettered(later, readLongAfter);
    expect(runs.letters.map((l) => l.id)).toEqual(['run_a/1', 'run_b/1']);
  });

  it('never writes the records of a profile erased before its dead letter is stored, nor a letter of nothing else', async () => {
    const { erasure, runs, test } = await setup();
    await erasure.erase(['p1']);
    const written = jest.spyOn(runs, 'deadLetter');
    const readBefore = new Date(test.clock.now().getTime() - 60_000);
    await erasure.deadLetter(
      {
        letter: letter('run_a/1', record('p1', 1), record('p2', 1)),
        positions: [
          { partition: 0, offset: 1 },
          { partition: 1, offset: 1 },
        ],
      },
      readBefore,
    );
    await erasure.deadLetter(
      { letter: letter('run_b/1', record('p1', 2)), positions: [{ partition: 0, offset: 2 }] },
      readBefore,
    );
    expect(written).toHaveBeenCalledTimes(1);
    const [stored, positions] = written.mock.calls[0] ?? [];
    expect(stored?.payload).not.toContain('p1');
    expect(JSON.parse(stored?.payload ?? '')).toEqual([record('p2', 1)]);
    expect(positions).toEqual([{ partition: 1, offset: 1 }]);
    expect(runs.letters.map((l) => l.id)).toEqual(['run_a/1']);
  });

  it('does not bring back records another erasure took out of a dead letter meanwhile', async () => {
    const { erasure, runs, erasures, test } = await setup();
    await runs.deadLetter(letter('run_a/1', record('p1', 1), record('p2', 1), record('p3', 1)));
    const [stale] = await runs.deadLettersById('dst_1', ['run_a/1']);
    await erasure.erase(['p1']);
    test.clock.advance(2 * ERASURE_GRACE_MS);
    await erasures.record(['p2'], test.clock.now());
    // written from what it read before p1's erasure took p1 out: p2 goes, p1 stays gone
    await erasure.deadLettered(stale!, test.clock.now());
    expect(JSON.parse(runs.letters[0]?.payload ?? '')).toEqual([record('p3', 1)]);
  });
});

describe('ErasuresConsumer', () => {
  const consumer = new ErasuresConsumer({} as ErasureService);
  const message = (change: Parameters<typeof create<typeof ProfileChangeSchema>>[1]) =>
    ({
      value: Buffer.from(toBinary(ProfileChangeSchema, create(ProfileChangeSchema, change))),
    }) as KafkaMessage;

  it('reads the erased profile from an erasure and passes over every other change', () => {
    expect(
      consumer.decode(
        message({ subjectId: 'p1', profileId: 'p1', change: { case: 'profileErased', value: {} } }),
      ),
    ).toBe('p1');
    expect(
      consumer.decode(
        message({
          subjectId: 'p1',
          profileId: 'p1',
          change: { case: 'eventRecorded', value: { name: 'Viewed', properties: { a: 1 } } },
        }),
      ),
    ).toBeUndefined();
  });

  it('refuses a value that is not a profile change', () => {
    expect(() =>
      consumer.decode({ value: Buffer.from([0xff, 0xff, 0xff]) } as KafkaMessage),
    ).toThrow();
  });
});
