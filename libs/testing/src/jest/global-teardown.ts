/** Stops what the global setup started for this run (nothing when endpoints came from env). */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__shoalStartedByRun?.stop();
  globalThis.__shoalStartedByRun = undefined;
}
