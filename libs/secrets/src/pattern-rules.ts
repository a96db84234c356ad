import { genesisRules, GENESIS_RULES_VERSION } from './genesis-rules';
import { gitleaksRules, GITLEAKS_VERSION } from './gitleaks-rules';
import { PatternScanner } from './pattern-scanner';
import type { ScanHit } from './secretlint-scanner';

/** gitleaks' default rules plus Genesis' keyword-anchored ones, compiled once per process. */
export const PATTERN_SCANNER = new PatternScanner([...gitleaksRules(), ...genesisRules()]);

export const PATTERN_RULES_VERSION = `${GITLEAKS_VERSION}+${GENESIS_RULES_VERSION}`;

/** The pattern rules over one text (synchronous; the secretlint rules run separately, batched). */
export function scanWithPatterns(text: string): ScanHit[] {
  return PATTERN_SCANNER.scan(text);
}
