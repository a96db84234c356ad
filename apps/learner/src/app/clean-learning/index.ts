export * from './content-hash';
export * from './redaction';
