import rulesFile from './gitleaks/gitleaks-rules.json';
import { groupSpan, shannonEntropy, type PatternRule } from './pattern-scanner';
import { re2ToJs } from './re2-to-js';

/** One rule of gitleaks' default config, as tools/secrets/gitleaks-toml-to-json.py writes it. */
export interface GitleaksRuleSpec {
  id: string;
  description: string;
  regex: string | null;
  path: string | null;
  secretGroup: number;
  entropy: number;
  keywords: string[];
  allowlists: GitleaksAllowlistSpec[];
}

export interface GitleaksAllowlistSpec {
  condition: string;
  regexTarget: string;
  regexes: string[];
  stopwords: string[];
  paths: string[];
}

export const GITLEAKS_RULES_FILE: {
  version: string;
  allowlist: { regexes: string[]; stopwords: string[] };
  rules: GitleaksRuleSpec[];
} = rulesFile;

/** e.g. `gitleaks@v8.30.1`. */
export const GITLEAKS_VERSION = `gitleaks@${GITLEAKS_RULES_FILE.version}`;

interface Allowlist {
  and: boolean;
  target: 'secret' | 'match' | 'line';
  regexes: RegExp[];
  stopwords: string[];
  /** A path condition: never met here (a learning has no file path), so an AND list never allows. */
  hasPaths: boolean;
}

const compile = (pattern: string, flags = '') => new RegExp(re2ToJs(pattern), flags);

function compileAllowlist(spec: GitleaksAllowlistSpec): Allowlist {
  return {
    and: spec.condition === 'AND',
    target: spec.regexTarget === 'match' || spec.regexTarget === 'line' ? spec.regexTarget : 'secret',
    regexes: spec.regexes.map((r) => compile(r, '')),
    stopwords: spec.stopwords.map((w) => w.toLowerCase()),
    hasPaths: spec.paths.length > 0,
  };
}

const GLOBAL_ALLOWLIST = compileAllowlist({
  condition: 'OR',
  regexTarget: 'secret',
  regexes: GITLEAKS_RULES_FILE.allowlist.regexes,
  stopwords: GITLEAKS_RULES_FILE.allowlist.stopwords,
  paths: [],
});

interface Finding {
  secret: string;
  match: string;
  line: string;
}

/** gitleaks' checkFindingAllowed for one list, without commits and with no file path. */
function allowed(list: Allowlist, finding: Finding): boolean {
  const target = finding[list.target];
  const regexAllowed = list.regexes.some((r) => r.test(target));
  const lower = finding.secret.toLowerCase();
  const stopword = list.stopwords.some((w) => lower.includes(w));
  if (!list.and) return regexAllowed || stopword;
  const checks: boolean[] = [];
  if (list.hasPaths) checks.push(false);
  if (list.regexes.length > 0) checks.push(regexAllowed);
  if (list.stopwords.length > 0) checks.push(stopword);
  return checks.every(Boolean);
}

function lineAround(text: string, start: number, end: number): string {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  const to = text.indexOf('\n', end);
  return text.slice(from, to === -1 ? text.length : to);
}

/**
 * A gitleaks rule as a PatternRule, with gitleaks' semantics (detect.go, v8.30): the secret is the rule's
 * secretGroup, else the first non-empty capture group, else the whole match (trimmed of "\n"); a secret
 * whose Shannon entropy is not above the rule's threshold is dropped; then the global and the rule's
 * allowlists (regexes on the secret, match or line; stopwords in the secret) may drop it.
 * Rules restricted to file paths (`path`) run on every text: a learning has no path, and a broader rule
 * only costs a marker. A rule with a path and no regex (a file-type rule) is left out.
 */
export function gitleaksRule(spec: GitleaksRuleSpec): PatternRule | undefined {
  if (!spec.regex) return undefined;
  const allowlists = spec.allowlists.map(compileAllowlist);
  return {
    id: `gitleaks:${spec.id}`,
    name: spec.id.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
    description: spec.description,
    regex: compile(spec.regex, 'g'),
    keywords: spec.keywords,
    secret: (m, text) => {
      const matchText = m[0].replace(/^\n+|\n+$/g, '');
      const matchStart = m.index + m[0].indexOf(matchText);
      let span = { start: matchStart, end: matchStart + matchText.length };
      if (m.length > 1) {
        const group =
          spec.secretGroup > 0
            ? spec.secretGroup
            : m.findIndex((g, i) => i > 0 && g !== undefined && g.length > 0);
        const picked = group > 0 ? groupSpan(m, group) : undefined;
        if (picked) span = picked;
        else if (spec.secretGroup > 0) return undefined;
      }
      const secret = text.slice(span.start, span.end);
      if (spec.entropy > 0 && shannonEntropy(secret) <= spec.entropy) return undefined;
      const finding = { secret, match: matchText, line: lineAround(text, m.index, m.index + m[0].length) };
      if (allowed(GLOBAL_ALLOWLIST, finding)) return undefined;
      if (allowlists.some((list) => allowed(list, finding))) return undefined;
      return span;
    },
  };
}

/** Every rule of the vendored gitleaks config that scans text. */
export function gitleaksRules(): PatternRule[] {
  return GITLEAKS_RULES_FILE.rules.flatMap((spec) => gitleaksRule(spec) ?? []);
}
