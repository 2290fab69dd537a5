export * from './infrastructure';
export * from './test-scope';
