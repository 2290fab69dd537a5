import { readFileSync } from 'node:fs';
import { fromBinary, fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import {
  RuleSchema,
  SegmentEvaluationStatusSchema,
  SegmentState,
  TransitionKind,
  segmentStatusTopic,
  type ProfileChange,
  type Rule,
} from '@shoal/contracts';
import { TestScope, eventually } from '@shoal/testing';
import { evaluationOrder, type RuleEvent } from '@shoal/rules';
import { oracle } from '@shoal/rules/testing';
import { MembershipHarness } from './membership-harness';
import { MembershipProcesses } from './membership-processes';

// Kill -9 in the middle of a stream, restart, and compare what downstream saw (de-duplicated by
// id) with what the oracle decides for each profile's changes in order. The rules do not depend
// on the time of evaluation, so the oracle's answer is exact whatever the timing of the crash.

const SEGMENTS: Record<string, JsonValue> = {
  s_orders: { condition: { event: { name: 'Order', count: { gte: 3 } } } },
  s_big: { condition: { event: { name: 'Order', sum: { property: 'total', gt: 500 } } } },
  s_vip: { condition: { hasTag: 'vip' } },
  s_vip_buyers: {
    condition: { all: { conditions: [{ inSegment: 's_vip' }, { inSegment: 's_orders' }] } },
  },
  // buyers who never visited; not true of an empty profile, so it does not matter whether a
  // profile was first seen on the list topic or the change topic
  s_quiet: {
    condition: {
      all: {
        conditions: [
          { event: { name: 'Visit', count: { eq: 0 } } },
          { event: { name: 'Order', count: { gte: 1 } } },
        ],
      },
    },
  },
  s_listed: { condition: { inList: 'list_k' } },
};
const PROFILES = 60;
const CHANGES = 3_000;
const LIST_CHANGES = 300;

/** A deterministic pseudo-random sequence (mulberry32), so every run sends the same stream. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Reference {
  tags: Set<string>;
  events: RuleEvent[];
  listed: boolean;
  members: Map<string, boolean>;
  kinds: Map<string, string[]>;
}

describe('a membership process killed (-9) mid-stream and restarted', () => {
  const scope = new TestScope();
  const harness = new MembershipHarness(scope);
  const membership = new MembershipProcesses(scope, 'kill');
  afterAll(async () => {
    await membership.close();
    await scope.close();
  });

  const start = () => membership.start({ MEMBERSHIP_CHECKPOINT_INTERVAL_MS: '300' });

  it('publishes, de-duplicated by id, exactly the transitions the oracle decides', async () => {
    const first = await start();
    for (const [id, rule] of Object.entries(SEGMENTS)) await harness.define(id, rule);
    // Membership applies a definition when its follower reads it, independently of the change
    // stream, so under load a change published after a definition may be evaluated before it;
    // the oracle's history starts with every segment live. The stream starts once every
    // partition reports every segment (a partition reports only the segments it has applied).
    const live = new Map<string, string>();
    await eventually(
      async () => {
        for (const message of await scope.readTopicToEnd(segmentStatusTopic)) {
          if (message.value === null) continue;
          const status = fromBinary(SegmentEvaluationStatusSchema, message.value);
          live.set(
            `${status.segmentId}/${status.partition}`,
            `v${status.segmentVersion} ${SegmentState[status.state]} of ${status.partitionCount}`,
          );
        }
        const partitions = Number([...live.values()][0]?.split(' of ')[1] ?? 0);
        expect(partitions).toBeGreaterThan(0);
        expect(Object.fromEntries([...live].sort())).toEqual(
          Object.fromEntries(
            Object.keys(SEGMENTS)
              .flatMap((id) => Array.from({ length: partitions }, (_, p) => `${id}/${p}`))
              .sort()
              .map((key) => [key, `v1 READY of ${partitions}`]),
          ),
        );
      },
      120_000,
      500,
    ).catch((error: unknown) => {
      throw explained(error, [], membership.logFile);
    });

    const next = random(20_261_130);
    const profile = () => `user:k${Math.floor(next() * PROFILES)}`;
    const changes: ProfileChange[] = [];
    const published: ProfileChange[] = [];
    const now = Date.now();
    for (let i = 0; i < CHANGES; i += 1) {
      const id = profile();
      const roll = next();
      if (roll < 0.05 && published.length > 0) {
        // ingestion re-publishing a change after its own crash: same id, new offset
        const again = published[Math.floor(next() * published.length)] as ProfileChange;
        changes.push(again);
        continue;
      }
      const change =
        roll < 0.6
          ? harness.change(
              id,
              {
                case: 'eventRecorded',
                value: { name: 'Order', properties: { total: Math.floor(next() * 200) } },
              },
              now + i,
            )
          : roll < 0.8
            ? harness.change(id, { case: 'eventRecorded', value: { name: 'Visit' } }, now + i)
            : harness.change(
                id,
                {
                  case: 'tagsChanged',
                  value: next() < 0.6 ? { added: ['vip'] } : { removed: ['vip'] },
                },
                now + i,
              );
      changes.push(change);
      published.push(change);
    }
    const listChanges = Array.from({ length: LIST_CHANGES }, (_, i) => ({
      member: profile(),
      on: next() < 0.6,
      sequence: i + 1,
    }));

    const send = async (from: number, to: number) => {
      for (let start = from; start < to; start += 100) {
        await harness.publish(changes.slice(start, Math.min(start + 100, to)));
        const lists = listChanges.filter(
          (_, i) =>
            i >= (start * LIST_CHANGES) / CHANGES && i < ((start + 100) * LIST_CHANGES) / CHANGES,
        );
        for (const l of lists) await harness.listChange('list_k', l.member, l.on, l.sequence);
      }
    };
    await send(0, 1_200);
    await first.kill('SIGKILL');
    await send(1_200, 2_000);
    await start();
    await send(2_000, CHANGES);

    // the oracle, profile by profile, change by change
    const rules = new Map<string, Rule>(
      Object.entries(SEGMENTS).map(([id, json]) => [id, fromJson(RuleSchema, json)]),
    );
    const order = evaluationOrder(rules);
    const reference = new Map<string, Reference>();
    const seen = new Set<string>();
    const listSequence = new Map<string, number>();
    const evaluate = (id: string) => {
      const subject = reference.get(id) as Reference;
      const segments: Record<string, number> = {};
      for (const segmentId of order) {
        const qualifies = oracle({
          rule: rules.get(segmentId) as Rule,
          history: {
            traits: {},
            tags: [...subject.tags],
            lists: subject.listed ? ['list_k'] : [],
            segments,
            events: subject.events,
          },
          now: Date.now(),
        });
        if (qualifies) segments[segmentId] = 0;
        if ((subject.members.get(segmentId) ?? false) !== qualifies) {
          subject.members.set(segmentId, qualifies);
          const kinds = subject.kinds.get(segmentId) ?? [];
          kinds.push(qualifies ? 'entered' : 'exited');
          subject.kinds.set(segmentId, kinds);
        }
      }
    };
    const subject = (id: string): Reference => {
      if (!reference.has(id))
        reference.set(id, {
          tags: new Set(),
          events: [],
          listed: false,
          members: new Map(),
          kinds: new Map(),
        });
      return reference.get(id) as Reference;
    };
    // list changes and profile changes travel on different topics, so only rules reading one
    // of them alone are compared across them: s_listed reads lists only, the others changes only
    for (const change of changes) {
      if (seen.has(change.id)) continue;
      seen.add(change.id);
      const s = subject(change.profileId);
      if (change.change.case === 'eventRecorded')
        s.events.push({
          name: change.change.value.name,
          timestamp: 0,
          properties: (change.change.value.properties ?? {}) as JsonObject,
        });
      if (change.change.case === 'tagsChanged') {
        for (const tag of change.change.value.added) s.tags.add(tag);
        for (const tag of change.change.value.removed) s.tags.delete(tag);
      }
      evaluate(change.profileId);
    }
    const listReference = new Map<string, string[]>();
    for (const l of listChanges) {
      if ((listSequence.get(l.member) ?? 0) >= l.sequence) continue;
      listSequence.set(l.member, l.sequence);
      const kinds = listReference.get(l.member) ?? [];
      const was = kinds.at(-1) === 'entered';
      if (was !== l.on) kinds.push(l.on ? 'entered' : 'exited');
      listReference.set(l.member, kinds);
    }

    const expected = new Map<string, string[]>();
    for (const [id, s] of reference) {
      for (const [segmentId, kinds] of s.kinds) {
        if (segmentId !== 's_listed') expected.set(`${id} ${segmentId}`, kinds);
      }
    }
    for (const [id, kinds] of listReference)
      if (kinds.length > 0) expected.set(`${id} s_listed`, kinds);

    let actual = new Map<string, string[]>();
    const observed = await eventually(
      async () => {
        const byId = new Map<string, string>();
        const pairs = new Map<string, Map<number, string>>();
        for (const { transition: t } of await harness.transitions()) {
          const kind = t.kind === TransitionKind.ENTERED ? 'entered' : 'exited';
          const meaning = `${t.profileId} ${t.segmentId} #${t.sequence} ${kind}`;
          const before = byId.get(t.id);
          if (before !== undefined && before !== meaning)
            throw new Error(`id ${t.id} means both "${before}" and "${meaning}"`);
          byId.set(t.id, meaning);
          const key = `${t.profileId} ${t.segmentId}`;
          const sequences = pairs.get(key) ?? new Map<number, string>();
          sequences.set(Number(t.sequence), kind);
          pairs.set(key, sequences);
        }
        actual = new Map<string, string[]>();
        for (const [key, sequences] of pairs) {
          const ordered = [...sequences.keys()].sort((a, b) => a - b);
          expect(ordered).toEqual(ordered.map((_, i) => i + 1));
          actual.set(
            key,
            ordered.map((n) => sequences.get(n) as string),
          );
        }
        expect(Object.fromEntries([...actual].sort())).toEqual(
          Object.fromEntries([...expected].sort()),
        );
        return { transitions: byId.size, pairs: actual.size };
      },
      240_000,
      2_000,
    ).catch((error: unknown) => {
      throw explained(
        error,
        [
          `transitions per segment, expected: ${perSegment(expected)}`,
          `transitions per segment, observed: ${perSegment(actual)}`,
        ],
        membership.logFile,
      );
    });
    expect(observed.transitions).toBeGreaterThan(300);
  }, 600_000);
});

/** Transitions per segment, from transitions per "profile segment" pair. */
function perSegment(pairs: ReadonlyMap<string, string[]>): string {
  const counts: Record<string, number> = {};
  for (const [key, kinds] of pairs) {
    const segmentId = key.split(' ')[1] as string;
    counts[segmentId] = (counts[segmentId] ?? 0) + kinds.length;
  }
  return JSON.stringify(counts);
}

/**
 * A failure that explains itself: its facts, and what the membership processes logged about
 * partitions and definitions (which segments each partition applied, and when) and warnings.
 */
function explained(error: unknown, facts: readonly string[], logFile: string): Error {
  const wanted = new Set(['partitions assigned', 'partition loaded', 'definitions applied']);
  const lines = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => {
      try {
        const { msg, level } = JSON.parse(line) as { msg?: string; level?: string };
        return wanted.has(msg ?? '') || ['warn', 'error', 'fatal'].includes(level ?? '');
      } catch {
        return false;
      }
    });
  return new Error(
    [
      (error as Error).message,
      '',
      ...facts,
      'membership log (partitions, definitions, warnings):',
      ...lines,
    ].join('\n'),
  );
}
