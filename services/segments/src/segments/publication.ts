import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { type Publication, PublicationSchema, PublicationState } from '@shoal/contracts';
import type { PublishFailure } from './segments.repository.port';

/**
 * Where publishing a segment's definition stands, from its outbox: pending while changes wait
 * in it, failed when the broker refused the last attempt for good, published otherwise.
 */
export function publicationOf({
  pending,
  failure,
}: {
  pending: number;
  failure: PublishFailure | undefined;
}): Publication {
  if (pending > 0) return create(PublicationSchema, { state: PublicationState.PENDING });
  if (failure) {
    return create(PublicationSchema, {
      state: PublicationState.FAILED,
      error: failure.error,
      failedVersion: BigInt(failure.version),
      failedAt: timestampFromMs(failure.atMs),
    });
  }
  return create(PublicationSchema, { state: PublicationState.PUBLISHED });
}
