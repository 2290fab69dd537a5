import fc from 'fast-check';

// Property tests are reproducible: by default every run generates the same cases, so CI never
// fails by luck and any failure replays exactly. FC_SEED=random explores new cases; FC_SEED=<n>
// replays a run that fast-check reported.
const seed = process.env['FC_SEED'];
if (seed !== 'random') fc.configureGlobal({ seed: seed ? Number(seed) : 20_261_123 });
