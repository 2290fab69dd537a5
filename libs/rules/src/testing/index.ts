// Test support for @shoal/rules users: the brute-force oracle, fast-check arbitraries, replay
// helpers and the product examples. Not part of the runtime API, so importing @shoal/rules
// never loads fast-check or the oracle's Temporal polyfill.
export { oracle, type SubjectHistory } from '../oracle/oracle';
export * from './arbitraries';
export * from './replay';
export * from './examples';
