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
    const transient = [
      status.UNAVAILABLE,
      status.DEADLINE_EXCEEDED,
      status.RESOURCE_EXHAUSTED,
      status.ABORTED,
    ];
    return transient.includes(error.code)
      ? PeerError.unavailable(peer, error.details)
      : PeerError.refused(peer, error.details);
  }
}
