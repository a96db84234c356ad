// Secret detection and redaction for learnings (docs/adr/0012-secret-detection.md).
export * from './scan-learning';
export * from './redaction';
export {
  SECRET_RULE_SET_VERSION,
  scanForSecrets,
  scanWithSecretlint,
  type ScanHit,
} from './secretlint-scanner';
export { scanWithPatterns, PATTERN_RULES_VERSION } from './pattern-rules';
export { isCredentialName, isPlaceholder } from './genesis-rules';
export * from './secret-corpus';
export { redactJsonPayload, redactReason } from './dead-letter';
export * from './current-rules';
