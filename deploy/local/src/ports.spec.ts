import * as net from 'node:net';
import { LOOPBACK } from './config';
import { ephemeralRangeStart, freePort, isPortFree } from './ports';

describe('freePort', () => {
  it('gives a port below the ephemeral range, which outgoing connections never take, and free', async () => {
    const below = ephemeralRangeStart();
    const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    for (const port of ports) {
      if (below - 20_000 >= 2_000) {
        expect(port).toBeGreaterThanOrEqual(20_000);
        expect(port).toBeLessThan(below);
      }
      expect(await isPortFree(port)).toBe(true);
    }
  });

  it('gives a port nobody listens on', async () => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, LOOPBACK, resolve));
    expect(await isPortFree(port)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await isPortFree(port)).toBe(true);
  });
});
