// gRPC's wire format on node:http2, as much of it as a load generator needs: one unary call with
// a message framed beforehand, its status read from the trailers, its answer's bytes dropped.
import {
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  constants,
} from 'node:http2';

/** gRPC's status code OK. */
export const GRPC_OK = 0;

/** A gRPC message frame: not compressed, 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The headers of a unary call to `path`, the same for every call. */
export function grpcRequestHeaders(
  path: string,
  token: string,
  deadlineMs: number,
): OutgoingHttpHeaders {
  return {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    [constants.HTTP2_HEADER_TE]: 'trailers',
    authorization: `Bearer ${token}`,
    'grpc-timeout': `${Math.max(1, Math.round(deadlineMs))}m`,
  };
}

/**
 * One unary call on `session`; `done` gets the call's gRPC status code, or -1 when the stream
 * ended without one (a transport failure).
 */
export function grpcCall(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  frame: Buffer,
  done: (status: number) => void,
): void {
  let status = -1;
  const read = (h: IncomingHttpHeaders) => {
    const value = h['grpc-status'];
    if (typeof value === 'string') status = Number(value);
  };
  const stream = session.request(headers);
  // a failure answers with headers only (trailers-only); a success with trailers after the data
  stream.once('response', read);
  stream.once('trailers', read);
  stream.on('error', () => undefined); // the close below counts it
  stream.once('close', () => done(status));
  stream.resume(); // the answer's bytes are not decoded
  stream.end(frame);
}
