// The floor of (e): a gRPC server that does nothing but answer, in a process of its own. It runs
// on the same grpc-js and Node as the services, with the same server options, and answers one
// method with bytes fixed beforehand (no token check, no decoding, no lookup), so the same load
// against it shows what this machine's gRPC stack costs before Shoal does any work.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';

/** What the parent sends: the method's path and the answer's bytes. */
interface FloorTask {
  readonly path: string;
  readonly response: Uint8Array;
}

/** A running floor server; `close` stops its process. */
export interface FloorServer {
  readonly address: string;
  readonly pid: number;
  close(): Promise<void>;
}

/** Starts the floor server in a child process and waits until it listens. */
export async function startFloorServer(task: FloorTask): Promise<FloorServer> {
  const child = fork(join(__dirname, 'floor-server.js'), [], {
    // the young generation of membership, which it stands in for
    execArgv: ['--max-semi-space-size=64'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  child.send({ path: task.path, response: Buffer.from(task.response).toString('base64') });
  const [message] = (await Promise.race([
    once(child, 'message'),
    exited.then(() => {
      throw new Error('the floor server exited before listening');
    }),
  ])) as [{ port: number }];
  return {
    address: `127.0.0.1:${message.port}`,
    pid: child.pid ?? 0,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A grpc-js service of one unary method, `call`, at `path`, its messages left as bytes. */
export function unaryBytesService(path: string): grpc.ServiceDefinition {
  const bytes = (b: Buffer) => b;
  return {
    call: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  };
}

function serve(task: FloorTask): void {
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const answer = Buffer.from(task.response);
  server.addService(unaryBytesService(task.path), {
    call: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, answer),
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.send?.({ port });
  });
}

if (require.main === module) {
  process.once('message', (message: { path: string; response: string }) =>
    serve({ path: message.path, response: Buffer.from(message.response, 'base64') }),
  );
}
