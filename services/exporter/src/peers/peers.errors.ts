import { status } from '@grpc/grpc-js';
import { DomainError, ErrorKind, GrpcCallError } from '@shoal/platform';

export enum PeerErrorCode {
  PeerUnavailable = 'PEER_UNAVAILABLE',
  PeerRefused = 'PEER_REFUSED',
}

/** A Shoal service the exporter depends on did not answer, or refused. */
export class PeerError extends DomainError {
  static unavailable(peer: string, detail: string): PeerError {
    return new PeerError(
      ErrorKind.Unavailable,
      PeerErrorCode.PeerUnavailable,
      `${peer} is unavailable: ${detail}`,
    );
  }

  static refused(peer: string, detail: string): PeerError {
    return new PeerError(
      ErrorKind.FailedPrecondition,
      PeerErrorCode.PeerRefused,
      `${peer} refused: ${detail}`,
    );
  }

  /** A peer's failed call as the exporter's own error: unavailability stays transient. */
  static of(peer: string, error: unknown): unknown {
    if (!(error instanceof GrpcCallError)) return error;
    // what the peer refused for good; anything else (down, overloaded, failing) may pass
    const refusals = [
      status.NOT_FOUND,
      status.FAILED_PRECONDITION,
      status.INVALID_ARGUMENT,
      status.PERMISSION_DENIED,
      status.UNAUTHENTICATED,
    ];
    return refusals.includes(error.code)
      ? PeerError.refused(peer, error.details)
      : PeerError.unavailable(peer, error.details);
  }
}
