import { type JsonObject, type JsonValue, fromJson } from '@bufbuild/protobuf';
import { type Rule, RuleSchema } from '@shoal/contracts';
import type { RuleEvent } from '@shoal/rules';
import { oracle } from '@shoal/rules/testing';
import type { StreamEvent } from './workload';

export type TransitionKind = 'entered' | 'exited';

/** What the input alone decides: each (profile, segment) pair's transitions, in order. */
export interface ExpectedOutcome {
  /** Keyed by `pairKey(profile, segment)`; a pair that never entered is absent. */
  readonly transitions: ReadonlyMap<string, readonly TransitionKind[]>;
  /** Beside each transition, the timestamp (ms) of the event that caused it. */
  readonly causedAt: ReadonlyMap<string, readonly number[]>;
  /** Members at the end, per segment. */
  readonly members: ReadonlyMap<string, ReadonlySet<string>>;
  readonly profiles: readonly string[];
}

export const pairKey = (profileId: string, segment: string) => `${profileId} ${segment}`;

interface Subject {
  traits: Record<string, JsonValue>;
  events: RuleEvent[];
  member: Map<string, boolean>;
}

/**
 * Replays the stream as sent (a repeated messageId counts once) through the rules' brute-force
 * oracle after every event, so each change of a profile's membership is one expected transition.
 * `segments` maps the names the stream's rules are known by to their rule JSON.
 */
export function expectedOutcome(
  segments: Readonly<Record<string, JsonValue>>,
  stream: Iterable<StreamEvent>,
): ExpectedOutcome {
  const rules = new Map<string, Rule>(
    Object.entries(segments).map(([name, json]) => [name, fromJson(RuleSchema, json)]),
  );
  const subjects = new Map<string, Subject>();
  const transitions = new Map<string, TransitionKind[]>();
  const causedAt = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const event of stream) {
    if (seen.has(event.messageId)) continue;
    seen.add(event.messageId);
    let subject = subjects.get(event.profileId);
    if (subject === undefined) {
      subject = { traits: {}, events: [], member: new Map() };
      subjects.set(event.profileId, subject);
    }
    const body = event.body;
    const at = new Date(String(body['timestamp'])).getTime();
    if (body['type'] === 'track') {
      subject.events.push({
        name: String(body['event']),
        timestamp: at,
        properties: (body['properties'] ?? {}) as JsonObject,
      });
    } else if (body['type'] === 'identify') {
      Object.assign(subject.traits, body['traits'] as JsonObject);
    }
    for (const [name, rule] of rules) {
      const qualifies = oracle({
        rule,
        history: {
          traits: subject.traits as JsonObject,
          tags: [],
          lists: [],
          segments: {},
          events: subject.events,
        },
        now: at,
      });
      if ((subject.member.get(name) ?? false) === qualifies) continue;
      subject.member.set(name, qualifies);
      const key = pairKey(event.profileId, name);
      const kinds = transitions.get(key) ?? [];
      kinds.push(qualifies ? 'entered' : 'exited');
      transitions.set(key, kinds);
      causedAt.set(key, [...(causedAt.get(key) ?? []), at]);
    }
  }
  const members = new Map<string, Set<string>>(
    [...rules.keys()].map((name) => [name, new Set<string>()]),
  );
  for (const [profileId, subject] of subjects) {
    for (const [name, member] of subject.member) if (member) members.get(name)?.add(profileId);
  }
  return { transitions, causedAt, members, profiles: [...subjects.keys()].sort() };
}
