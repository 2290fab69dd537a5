import { DomainError, ErrorKind } from '@shoal/platform';

export enum StaticListErrorCode {
  Busy = 'STATIC_LIST_BUSY',
  PublishingBehind = 'STATIC_LIST_PUBLISHING_BEHIND',
}

/** What static lists refuse for a while; both are transient: retrying later succeeds. */
export class StaticListError extends DomainError {
  static busy(listId: string): StaticListError {
    return new StaticListError(
      ErrorKind.Unavailable,
      StaticListErrorCode.Busy,
      `list ${listId} is being changed by another call; retry shortly`,
    );
  }

  static publishingBehind(listId: string, unpublished: number): StaticListError {
    return new StaticListError(
      ErrorKind.Unavailable,
      StaticListErrorCode.PublishingBehind,
      `list ${listId} has ${unpublished} member changes not yet published to Kafka; retry when they are`,
    );
  }
}
