import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { LOOPBACK } from './config';

/**
 * A port on 127.0.0.1 that was free a moment ago, for dedicated test instances. It is taken from
 * below the kernel's ephemeral range where there is room, so a service restarted on its port (a
 * kill -9 drill) does not find it taken by an outgoing connection's local port meanwhile; else
 * whatever port the kernel gives.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralRangeStart();
  if (below - FIXED_RANGE_LOW >= FIXED_RANGE_MIN_SIZE) {
    for (let attempt = 0; attempt < FIXED_RANGE_ATTEMPTS; attempt += 1) {
      const port = FIXED_RANGE_LOW + Math.floor(Math.random() * (below - FIXED_RANGE_LOW));
      if (await isPortFree(port)) return port;
    }
  }
  return anyFreePort();
}

const FIXED_RANGE_LOW = 20_000;
const FIXED_RANGE_MIN_SIZE = 2_000;
const FIXED_RANGE_ATTEMPTS = 20;
const LINUX_EPHEMERAL_RANGE = '/proc/sys/net/ipv4/ip_local_port_range';

/** The first port the kernel hands out for outgoing connections (Linux; elsewhere none below). */
export function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync(LINUX_EPHEMERAL_RANGE, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : FIXED_RANGE_LOW;
  } catch {
    return FIXED_RANGE_LOW;
  }
}

function anyFreePort(): Promise<number> {
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
