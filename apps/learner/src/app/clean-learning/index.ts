export * from './content-hash';
export * from './current-rules';
