// Loaded with `--require` (NODE_OPTIONS refuses --cpu-prof) into a service the bench profiles:
// samples its CPU from start to exit and writes a .cpuprofile, as `node --cpu-prof` would, into
// SHOAL_BENCH_CPU_PROFILE_DIR. An in-thread inspector session answers synchronously, so the
// profile is written from the 'exit' handler.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.SHOAL_BENCH_CPU_PROFILE_DIR;
if (dir !== undefined && dir !== '') {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1_000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error !== null) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, `CPU.${Date.now()}.${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
    });
  });
}
