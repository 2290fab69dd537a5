import fc from 'fast-check';

// Property tests are reproducible: every run generates the same cases unless FC_SEED=random
// (explore) or FC_SEED=<n> (replay what fast-check reported).
const seed = process.env['FC_SEED'];
if (seed !== 'random') fc.configureGlobal({ seed: seed ? Number(seed) : 20_261_201 });
