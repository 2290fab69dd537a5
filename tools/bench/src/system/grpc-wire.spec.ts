import { type ClientHttp2Session, connect } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { unaryBytesService } from './floor-server';
import { GRPC_OK, grpcCall, grpcFrame, grpcRequestHeaders } from './grpc-wire';

// the load generator's calls against grpc-js's own server, on loopback
describe('grpc-wire', () => {
  let server: grpc.Server;
  let port: number;
  const seen: { request: Buffer; authorization: unknown; deadline: number }[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(unaryBytesService('/test.Echo/Call'), {
      call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        seen.push({
          request: call.request,
          authorization: call.metadata.get('authorization')[0],
          deadline: Number(call.getDeadline()) - Date.now(),
        });
        if (call.request.length === 0)
          done({ code: grpc.status.INVALID_ARGUMENT, details: 'empty' });
        else done(null, Buffer.concat([call.request, call.request]));
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
  });
  afterAll(() => server.forceShutdown());

  const call = (session: ClientHttp2Session, path: string, message: Uint8Array) =>
    new Promise<number>((resolve) =>
      grpcCall(session, grpcRequestHeaders(path, 'a.b.c', 5_000), grpcFrame(message), resolve),
    );

  it('frames a message with the uncompressed flag and its big-endian length', () => {
    expect([...grpcFrame(new Uint8Array([7, 8, 9]))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
    expect([...grpcFrame(new Uint8Array(300)).subarray(0, 5)]).toEqual([0, 0, 0, 1, 44]);
  });

  it('makes a call the server decodes, with its token and deadline, and reads OK', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      seen.length = 0;
      expect(await call(session, '/test.Echo/Call', new Uint8Array([1, 2]))).toBe(GRPC_OK);
      expect(seen).toHaveLength(1);
      expect([...(seen[0]?.request ?? [])]).toEqual([1, 2]);
      expect(seen[0]?.authorization).toBe('Bearer a.b.c');
      expect(seen[0]?.deadline).toBeGreaterThan(4_000);
      expect(seen[0]?.deadline).toBeLessThanOrEqual(5_000);
    } finally {
      session.destroy();
    }
  });

  it('reads the status of a refused call and of an unknown method (trailers-only answers)', async () => {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      expect(await call(session, '/test.Echo/Call', new Uint8Array())).toBe(
        grpc.status.INVALID_ARGUMENT,
      );
      expect(await call(session, '/test.Echo/Nothing', new Uint8Array([1]))).toBe(
        grpc.status.UNIMPLEMENTED,
      );
    } finally {
      session.destroy();
    }
  });

  it('reports -1 for a call on a connection that failed', async () => {
    const session = connect('http://127.0.0.1:1');
    session.on('error', () => undefined);
    try {
      expect(await call(session, '/test.Echo/Call', new Uint8Array([1]))).toBe(-1);
    } finally {
      session.destroy();
    }
  });
});
