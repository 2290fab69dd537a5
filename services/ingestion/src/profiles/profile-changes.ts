import { timestampDate } from '@bufbuild/protobuf/wkt';
import { IdentityKind, type ProfileIdentity, type UpstreamEvent } from '@shoal/contracts';

type JsonObject = { [key: string]: unknown };

/** What a batch of events changes on one profile; applying it twice changes nothing more. */
export interface ProfileChange {
  readonly profileId: string;
  readonly identities: readonly { kind: IdentityKind; value: string }[];
  /** Trait values to set (later events in the batch win). */
  readonly traits: Readonly<JsonObject>;
  readonly accountIds: readonly string[];
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
}

const PREFIX: Record<IdentityKind, string> = {
  [IdentityKind.USER_ID]: 'user:',
  [IdentityKind.ANONYMOUS_ID]: 'anon:',
  [IdentityKind.TRAIT]: 'trait:',
  [IdentityKind.UNSPECIFIED]: '',
};

/**
 * The profile an identifier addresses. A known user id names the profile; otherwise the
 * anonymous id does. (Merging an anonymous history into a user on alias/identify belongs to
 * identity resolution, which builds on these ids.)
 */
export function profileIdOf(identity: Pick<ProfileIdentity, 'kind' | 'value'>): string {
  return `${PREFIX[identity.kind]}${identity.value}`;
}

export function primaryIdentity(event: UpstreamEvent): { kind: IdentityKind; value: string } {
  return event.userId
    ? { kind: IdentityKind.USER_ID, value: event.userId }
    : { kind: IdentityKind.ANONYMOUS_ID, value: event.anonymousId };
}

/** Folds a batch of events, in order, into one change per profile. */
export function profileChangesFrom(events: readonly UpstreamEvent[]): ProfileChange[] {
  const byProfile = new Map<
    string,
    {
      identities: Map<string, { kind: IdentityKind; value: string }>;
      traits: JsonObject;
      accountIds: Set<string>;
      first: Date;
      last: Date;
    }
  >();
  for (const event of events) {
    const primary = primaryIdentity(event);
    const profileId = profileIdOf(primary);
    const at = event.timestamp ? timestampDate(event.timestamp) : new Date(0);
    let change = byProfile.get(profileId);
    if (!change) {
      change = { identities: new Map(), traits: {}, accountIds: new Set(), first: at, last: at };
      byProfile.set(profileId, change);
    }
    const remember = (kind: IdentityKind, value: string) => {
      if (value) change.identities.set(`${kind}:${value}`, { kind, value });
    };
    remember(IdentityKind.USER_ID, event.userId);
    remember(IdentityKind.ANONYMOUS_ID, event.anonymousId);
    if (at < change.first) change.first = at;
    if (at > change.last) change.last = at;
    switch (event.payload.case) {
      case 'identify':
        Object.assign(change.traits, event.payload.value.traits ?? {});
        break;
      case 'group':
        change.accountIds.add(event.payload.value.groupId);
        break;
      case 'alias':
        remember(IdentityKind.USER_ID, event.payload.value.previousId);
        break;
      case 'track':
      case undefined:
        break;
    }
  }
  return [...byProfile.entries()].map(([profileId, c]) => ({
    profileId,
    identities: [...c.identities.values()],
    traits: c.traits,
    accountIds: [...c.accountIds],
    firstSeenAt: c.first,
    lastSeenAt: c.last,
  }));
}
