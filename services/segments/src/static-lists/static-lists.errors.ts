import { DomainError, ErrorKind, limitExceeded } from '@shoal/platform';

export enum StaticListErrorCode {
  NotAStaticList = 'NOT_A_STATIC_LIST',
  Busy = 'STATIC_LIST_BUSY',
  PublishingBehind = 'STATIC_LIST_PUBLISHING_BEHIND',
}

/** Every refusal of static lists, one factory each; busy and publishing behind are transient. */
export const StaticListError = {
  notAStaticList: (id: string) =>
    new DomainError(
      ErrorKind.FailedPrecondition,
      StaticListErrorCode.NotAStaticList,
      `segment ${id} is not a static list`,
    ),

  tooManyMembers: (listId: string, members: number, adding: number, max: number) =>
    limitExceeded(
      'STATIC_LIST_MAX_MEMBERS',
      max,
      `list ${listId} has ${members} members and ${adding} more would exceed it`,
    ),

  /** Retrying shortly succeeds. */
  busy: (listId: string) =>
    new DomainError(
      ErrorKind.Unavailable,
      StaticListErrorCode.Busy,
      `list ${listId} is being changed by another call; retry shortly`,
    ),

  /** Retrying once the relay caught up succeeds. */
  publishingBehind: (listId: string, unpublished: number) =>
    new DomainError(
      ErrorKind.Unavailable,
      StaticListErrorCode.PublishingBehind,
      `list ${listId} has ${unpublished} member changes not yet published to Kafka; retry when they are`,
    ),
};
