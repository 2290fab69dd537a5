import { type JsonObject, create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type UpstreamEvent, UpstreamEventSchema } from '@shoal/contracts';

/** Who an event is about: a user id, an anonymous id, or both. */
export interface Who {
  readonly userId?: string;
  readonly anonymousId?: string;
}

let sequence = 0;

function event(
  who: Who,
  at: string,
  payload: UpstreamEvent['payload'],
  messageId?: string,
): UpstreamEvent {
  return create(UpstreamEventSchema, {
    messageId: messageId ?? `m-${++sequence}`,
    userId: who.userId ?? '',
    anonymousId: who.anonymousId ?? '',
    timestamp: timestampFromDate(new Date(at)),
    payload,
  });
}

/** Upstream events as tests write them: who, when (ISO-8601), what; messageId optional. */
export const upstream = {
  track: (who: Who, at: string, name: string, properties?: JsonObject, messageId?: string) =>
    event(
      who,
      at,
      { case: 'track', value: { $typeName: 'shoal.v1.TrackPayload', event: name, properties } },
      messageId,
    ),
  identify: (who: Who, at: string, traits: JsonObject, messageId?: string) =>
    event(
      who,
      at,
      { case: 'identify', value: { $typeName: 'shoal.v1.IdentifyPayload', traits } },
      messageId,
    ),
  group: (who: Who, at: string, groupId: string, traits?: JsonObject, messageId?: string) =>
    event(
      who,
      at,
      { case: 'group', value: { $typeName: 'shoal.v1.GroupPayload', groupId, traits } },
      messageId,
    ),
  alias: (userId: string, previousId: string, at: string, messageId?: string) =>
    event(
      { userId },
      at,
      { case: 'alias', value: { $typeName: 'shoal.v1.AliasPayload', previousId } },
      messageId,
    ),
  page: (who: Who, at: string, name: string, properties?: JsonObject, category = '') =>
    event(who, at, {
      case: 'page',
      value: { $typeName: 'shoal.v1.PagePayload', name, category, properties },
    }),
  screen: (who: Who, at: string, name: string, properties?: JsonObject) =>
    event(who, at, {
      case: 'screen',
      value: { $typeName: 'shoal.v1.ScreenPayload', name, category: '', properties },
    }),
};
