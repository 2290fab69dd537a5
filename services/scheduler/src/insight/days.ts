export const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC day of an instant, as "YYYY-MM-DD". */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The days from one to another, both included. */
export const daysBetween = (fromMs: number, toMs: number): string[] =>
  Array.from({ length: Math.round((toMs - fromMs) / DAY_MS) + 1 }, (_, i) =>
    dayOf(fromMs + i * DAY_MS),
  );
