export * from './content-hash';
export * from './redaction';
export * from './current-rules';
