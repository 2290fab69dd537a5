import { create, fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import {
  Audience,
  ProfileChangeSchema,
  RuleSchema,
  SegmentKind,
  SegmentSchema,
  TransitionCause,
  type ProfileChange,
  type Segment,
} from '@shoal/contracts';
import { eventChange } from '../../test/evaluation/scenario';
import type { ContactMessage, ContactOutput } from './contacts';
import { SegmentCatalogue } from './segment-catalogue';
import type { Transition } from './transition';
import { PartitionWorkingSet } from './working-set';

// Contacts across partitions: `profiles` holds the profiles (the partition their ids hash to),
// `accounts` the accounts; what `profiles` publishes is delivered to `accounts` as the contacts
// topic would, with offsets.

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');

function segment(id: string, condition: JsonValue): Segment {
  return create(SegmentSchema, {
    id,
    kind: SegmentKind.DYNAMIC,
    version: 1n,
    audience: Audience.ACCOUNTS,
    rule: fromJson(RuleSchema, { condition, audience: 'AUDIENCE_ACCOUNTS' }),
  });
}

const TWO_ACTIVE = segment('seg_two_active', {
  contacts: { where: { trait: { path: 'active', equals: true } }, count: { gte: 2 } },
});

class Partitions {
  readonly profiles: PartitionWorkingSet;
  readonly accounts: PartitionWorkingSet;
  /** Everything `profiles` published, as delivered (offsets from 0). */
  readonly delivered: { offset: number; message: ContactMessage }[] = [];
  private offset = 0;
  private contactOffset = 0;

  constructor(
    definitions: Segment[],
    private readonly partitionCount = 2,
  ) {
    const catalogue = SegmentCatalogue.build({ definitions });
    this.profiles = new PartitionWorkingSet({ catalogue: SegmentCatalogue.empty() });
    this.accounts = new PartitionWorkingSet({ catalogue: SegmentCatalogue.empty() });
    for (const ws of [this.profiles, this.accounts])
      ws.setCatalogue({ catalogue, now: T0, backfill: ws.startBackfill([]) });
  }

  change(profileId: string, change: ProfileChange['change'], now: number, accountId = '') {
    this.offset += 1;
    return this.profiles.applyProfileChange({
      change: create(ProfileChangeSchema, {
        id: `c${this.offset}`,
        subjectId: profileId,
        profileId,
        accountId,
        change,
      }),
      offset: this.offset,
      now,
    });
  }

  join(profileId: string, accountId: string, now: number) {
    return this.change(profileId, { case: 'accountJoined', value: {} as never }, now, accountId);
  }

  leave(profileId: string, accountId: string, now: number) {
    return this.change(profileId, { case: 'accountLeft', value: {} as never }, now, accountId);
  }

  traits(profileId: string, values: JsonObject, now: number) {
    return this.change(
      profileId,
      {
        case: 'traitsChanged',
        value: {
          changes: Object.entries(values).map(([key, value]) =>
            value === null ? { key } : { key, value: fromJson(ValueSchema, value) },
          ),
        } as never,
      },
      now,
    );
  }

  /** Delivers what `profiles` published since the last call; `settled` as sent by partition 0. */
  deliver(now: number, outputs = this.profiles.takeContactOutput()): Transition[] {
    const messages = outputs.map((output: ContactOutput) => {
      const message: ContactMessage =
        output.kind === 'settled'
          ? { ...output, partition: 0, partitionCount: this.partitionCount }
          : output;
      this.contactOffset += 1;
      const delivered = { offset: this.contactOffset, message };
      this.delivered.push(delivered);
      return delivered;
    });
    return this.accounts.applyContactMessages({ messages, now });
  }

  /** Partition 1 (holding no profiles of these accounts) says it has published its contacts. */
  settleOther(now: number): Transition[] {
    const signature = this.accounts.currentCatalogue.contactSignature;
    this.contactOffset += 1;
    return this.accounts.applyContactMessages({
      messages: [
        {
          offset: this.contactOffset,
          message: {
            kind: 'settled',
            signature,
            partition: 1,
            partitionCount: this.partitionCount,
          },
        },
      ],
      now,
    });
  }
}

const summary = (transitions: readonly Transition[]) =>
  transitions.map((t) => `${t.profileId} ${t.kind} ${t.segmentId} ${TransitionCause[t.cause]}`);

describe('contacts across partitions', () => {
  it('enters "at least 2 active contacts" as contacts change, and exits when one leaves', () => {
    const p = new Partitions([TWO_ACTIVE]);
    expect(p.deliver(T0)).toEqual([]);
    expect(p.settleOther(T0)).toEqual([]);
    p.join('ann', 'acme', T0 + 1);
    p.join('bob', 'acme', T0 + 1);
    expect(p.deliver(T0 + 2)).toEqual([]);
    p.traits('ann', { active: true }, T0 + 3);
    expect(p.deliver(T0 + 4)).toEqual([]);
    p.traits('bob', { active: true, plan: 'pro' }, T0 + 5);
    const [entered] = p.deliver(T0 + 6);
    expect(entered).toMatchObject({
      profileId: 'acme',
      kind: 'entered',
      segmentId: 'seg_two_active',
      cause: TransitionCause.EVENT,
      sequence: 1,
      // the instant the contact changed, not when its record arrived
      at: T0 + 5,
    });
    // a change the contacts condition cannot see publishes nothing
    p.traits('bob', { plan: 'free' }, T0 + 7);
    expect(p.profiles.takeContactOutput()).toEqual([]);
    p.leave('ann', 'acme', T0 + 8);
    expect(summary(p.deliver(T0 + 9))).toEqual(['acme exited seg_two_active EVENT']);
    expect(p.accounts.profiles.get('account:acme')?.contactIds).toEqual(['bob']);
  });

  it('publishes only what contacts conditions read of a profile', () => {
    const p = new Partitions([TWO_ACTIVE]);
    p.traits('ann', { active: true, email: 'ann@example.com' }, T0);
    p.join('ann', 'acme', T0 + 1);
    const record = p.profiles.takeContactOutput().find((output) => output.kind === 'contact');
    expect(record).toMatchObject({
      kind: 'contact',
      accountId: 'acme',
      profileId: 'ann',
      state: { traits: { active: true } },
    });
  });

  it('drops a replayed contact record older than the one it holds', () => {
    const p = new Partitions([TWO_ACTIVE]);
    p.deliver(T0);
    p.settleOther(T0);
    p.join('ann', 'acme', T0);
    p.join('bob', 'acme', T0);
    p.traits('ann', { active: true }, T0 + 1);
    p.traits('bob', { active: true }, T0 + 1);
    const outputs = p.profiles.takeContactOutput();
    expect(summary(p.deliver(T0 + 2, outputs))).toEqual(['acme entered seg_two_active EVENT']);
    // the profiles' partition replays from before `ann` became active and publishes again: its
    // record of `ann` joining (inactive) comes again, after the newer one
    const joined = p.delivered.find(
      ({ message }) =>
        message.kind === 'contact' &&
        message.profileId === 'ann' &&
        message.state?.traits['active'] === undefined,
    );
    expect(joined).toBeDefined();
    expect(p.deliver(T0 + 3, [joined?.message as ContactOutput])).toEqual([]);
    expect(p.accounts.membersOf('seg_two_active')?.has('acme')).toBe(true);
  });

  it('counts a profile erased and seen again as a new contact only once it joins again', () => {
    const one = segment('seg_one_active', {
      contacts: { where: { trait: { path: 'active', equals: true } }, count: { gte: 1 } },
    });
    const p = new Partitions([one]);
    p.deliver(T0);
    p.settleOther(T0);
    p.join('ann', 'acme', T0);
    p.traits('ann', { active: true }, T0 + 1);
    expect(summary(p.deliver(T0 + 1))).toEqual(['acme entered seg_one_active EVENT']);
    p.change('ann', { case: 'profileErased', value: {} as never }, T0 + 2);
    expect(summary(p.deliver(T0 + 2))).toEqual(['acme exited seg_one_active ERASE']);
    p.traits('ann', { active: true }, T0 + 3);
    expect(p.deliver(T0 + 3)).toEqual([]);
    p.join('ann', 'acme', T0 + 4);
    expect(summary(p.deliver(T0 + 4))).toEqual(['acme entered seg_one_active EVENT']);
  });

  it('removes a profile merged away from its accounts', () => {
    const one = segment('seg_one_active', {
      contacts: { where: { trait: { path: 'active', equals: true } }, count: { gte: 1 } },
    });
    const p = new Partitions([one]);
    p.deliver(T0);
    p.settleOther(T0);
    p.join('anon', 'acme', T0);
    p.traits('anon', { active: true }, T0);
    p.deliver(T0);
    p.change(
      'anon',
      {
        case: 'profilesMerged',
        value: { survivorProfileId: 'ann', absorbedProfileIds: ['anon'] } as never,
      },
      T0 + 1,
    );
    expect(summary(p.deliver(T0 + 1))).toEqual(['acme exited seg_one_active MERGE']);
  });

  it('evaluates a new contacts segment only once every partition has published its contacts', () => {
    const p = new Partitions([]);
    p.join('ann', 'acme', T0);
    p.join('bob', 'acme', T0);
    p.traits('ann', { active: true }, T0);
    p.traits('bob', { active: true }, T0);
    p.deliver(T0);
    const catalogue = SegmentCatalogue.build({ definitions: [TWO_ACTIVE] });
    p.profiles.setCatalogue({ catalogue, now: T0 + 1, backfill: p.profiles.startBackfill([]) });
    expect(
      p.accounts.setCatalogue({ catalogue, now: T0 + 1, backfill: p.accounts.startBackfill([]) }),
    ).toEqual([]);
    // this partition's contacts and its `settled`: partition 1 has not said so yet
    expect(p.deliver(T0 + 2)).toEqual([]);
    const checkpoint = p.accounts.takeCheckpoint();
    expect(checkpoint.contacts.pending).toBe(catalogue.contactSignature);
    expect(summary(p.settleOther(T0 + 3))).toEqual(['acme entered seg_two_active RULE_CHANGE']);
  });

  it('moves an account by time alone when a contact condition changes with time', () => {
    const recent = segment('seg_recent_visitor', {
      contacts: {
        where: { event: { name: 'Visit', lastSeen: { withinLast: { days: 7 } } } },
        count: { gte: 1 },
      },
    });
    const p = new Partitions([recent]);
    p.deliver(T0);
    p.settleOther(T0);
    p.join('ann', 'acme', T0);
    p.profiles.applyProfileChange({
      change: eventChange('visit', 'ann', 'Visit', T0 + DAY, {}),
      offset: 100,
      now: T0 + DAY,
    });
    expect(summary(p.deliver(T0 + DAY))).toEqual(['acme entered seg_recent_visitor EVENT']);
    const at = p.accounts.nextTimerAt as number;
    // seven days after the visit, the first instant it is no longer within the last 7 days
    expect(at).toBe(T0 + 8 * DAY + 1);
    expect(summary(p.accounts.fireTimers(at))).toEqual(['acme exited seg_recent_visitor TIME']);
    expect(p.profiles.takeContactOutput()).toEqual([]);
  });
});
