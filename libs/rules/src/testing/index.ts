// Test support for @shoal/rules users (fast-check arbitraries); not part of the runtime API, so
// importing @shoal/rules never loads fast-check.
export * from './arbitraries';
export * from './replay';
export * from './examples';
