import * as net from 'node:net';
import { LOOPBACK } from './config';

/** A port on 127.0.0.1 that was free a moment ago, for dedicated test instances. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when we could bind 127.0.0.1:port ourselves, i.e. nobody listens there (also not on 0.0.0.0). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(false) : reject(error),
    );
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}
