import { hash } from 'node:crypto';
import {
  type JsonObject,
  type JsonValue,
  type MessageInitShape,
  create,
  fromJson,
} from '@bufbuild/protobuf';
import { ValueSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  type EventKind,
  type ProfileChange,
  ProfileChangeSchema,
  ProfileIdentitySchema,
} from '@shoal/contracts';
import type { Identity } from './profile-state';

/**
 * Which change of a source this is, so its id is the same whenever the source is applied again
 * (a replay after a crash) and differs from every other change of the source.
 */
export type ChangeKind =
  | 'event'
  | 'traits'
  | `identity:${string}`
  | `account-joined:${string}`
  | `account-left:${string}`
  | 'account-traits'
  | 'merged'
  | 'merge-traits'
  | 'merge-tags'
  | 'tags'
  | 'erased';

/**
 * A change's id: derived from its source (an upstream messageId, or "api:<request>"), its
 * subject (the record key) and its kind, so the same change always has the same id. 22
 * base64url characters (132 bits).
 */
export function changeId(source: string, subject: string, kind: ChangeKind): string {
  return hash('sha256', `${source}\n${subject}\n${kind}`, 'base64url').slice(0, 22);
}

/** Where a change comes from and when, shared by all changes a source causes. */
export interface ChangeSource {
  /** An upstream messageId, or "api:<request id>". */
  readonly sourceId: string;
  /** Event time (ms): when it happened by the source's clock. */
  readonly occurredAt: number;
  /** When ingestion recorded it (ms). */
  readonly recordedAt: number;
  /** The verified caller of a gRPC change. */
  readonly actor?: string;
}

/** The subject of a profile's change: the profile and its incarnation. */
export interface ProfileSubject {
  readonly id: string;
  readonly incarnation: string;
}

type Body = MessageInitShape<typeof ProfileChangeSchema>['change'];

function change(
  source: ChangeSource,
  subjectId: string,
  kind: ChangeKind,
  fields: { profileId?: string; accountId?: string; incarnation?: string },
  body: Body,
): ProfileChange {
  return create(ProfileChangeSchema, {
    id: changeId(source.sourceId, subjectId, kind),
    subjectId,
    profileId: fields.profileId ?? '',
    accountId: fields.accountId ?? '',
    incarnation: fields.incarnation ?? '',
    sourceId: source.sourceId,
    occurredAt: timestampFromMs(source.occurredAt),
    recordedAt: timestampFromMs(source.recordedAt),
    actor: source.actor ?? '',
    change: body,
  });
}

const ofProfile = (p: ProfileSubject) => ({ profileId: p.id, incarnation: p.incarnation });

export function eventRecorded(
  source: ChangeSource,
  profile: ProfileSubject,
  event: { name: string; kind: EventKind; properties: JsonObject | undefined },
): ProfileChange {
  return change(source, profile.id, 'event', ofProfile(profile), {
    case: 'eventRecorded',
    value: {
      name: event.name,
      kind: event.kind,
      ...(event.properties ? { properties: event.properties } : {}),
    },
  });
}

export interface TraitDiff {
  readonly key: string;
  readonly previous: JsonValue | undefined;
  readonly value: JsonValue;
}

function traitChanges(diffs: readonly TraitDiff[]) {
  return {
    changes: diffs.map((d) => ({
      key: d.key,
      ...(d.previous !== undefined ? { previous: fromJson(ValueSchema, d.previous) } : {}),
      value: fromJson(ValueSchema, d.value),
    })),
  };
}

export function traitsChanged(
  source: ChangeSource,
  profile: ProfileSubject,
  diffs: readonly TraitDiff[],
  kind: 'traits' | 'merge-traits' = 'traits',
): ProfileChange {
  return change(source, profile.id, kind, ofProfile(profile), {
    case: 'traitsChanged',
    value: traitChanges(diffs),
  });
}

export function identityAdded(
  source: ChangeSource,
  profile: ProfileSubject,
  key: string,
  identity: Identity,
): ProfileChange {
  return change(source, profile.id, `identity:${key}`, ofProfile(profile), {
    case: 'identityAdded',
    value: {
      identity: create(ProfileIdentitySchema, {
        kind: identity.kind,
        value: identity.value,
        trait: identity.trait ?? '',
      }),
    },
  });
}

export function accountMembership(
  source: ChangeSource,
  profile: ProfileSubject,
  accountId: string,
  joined: boolean,
): ProfileChange {
  const fields = { ...ofProfile(profile), accountId };
  return joined
    ? change(source, profile.id, `account-joined:${accountId}`, fields, {
        case: 'accountJoined',
        value: {},
      })
    : change(source, profile.id, `account-left:${accountId}`, fields, {
        case: 'accountLeft',
        value: {},
      });
}

export function accountTraitsChanged(
  source: ChangeSource,
  accountId: string,
  diffs: readonly TraitDiff[],
): ProfileChange {
  return change(
    source,
    accountId,
    'account-traits',
    { accountId },
    {
      case: 'accountTraitsChanged',
      value: traitChanges(diffs),
    },
  );
}

export function tagsChanged(
  source: ChangeSource,
  profile: ProfileSubject,
  added: readonly string[],
  removed: readonly string[],
  kind: 'tags' | 'merge-tags' = 'tags',
): ProfileChange {
  return change(source, profile.id, kind, ofProfile(profile), {
    case: 'tagsChanged',
    value: { added: [...added], removed: [...removed] },
  });
}

/**
 * A merge, once keyed by the survivor and once by each absorbed profile, so every partition
 * holding one of them learns it.
 */
export function profilesMerged(
  source: ChangeSource,
  survivor: ProfileSubject,
  absorbed: readonly ProfileSubject[],
): ProfileChange[] {
  const body: Body = {
    case: 'profilesMerged',
    value: {
      survivorProfileId: survivor.id,
      absorbedProfileIds: absorbed.map((a) => a.id),
    },
  };
  return [survivor, ...absorbed].map((subject) =>
    change(source, subject.id, 'merged', ofProfile(subject), body),
  );
}

/** An erasure, keyed by the profile and by every profile it had absorbed. */
export function profileErased(
  source: ChangeSource,
  profile: ProfileSubject,
  absorbedIds: readonly string[],
): ProfileChange[] {
  const subjects = [profile, ...absorbedIds.map((id) => ({ id, incarnation: '' }))];
  return subjects.map((subject) =>
    change(source, subject.id, 'erased', ofProfile(subject), {
      case: 'profileErased',
      value: {},
    }),
  );
}
