import { KeywordIndex } from './keyword-index';
import type { ScanHit } from './secretlint-scanner';

/** A secret found by a regex rule: where the secret itself lies in the text. */
export interface SecretSpan {
  start: number;
  end: number;
}

/**
 * A regex rule over a whole text. `regex` must have the `g` flag (the scanner adds `d` where it matches).
 * `secret` picks the secret out of a match that has group indices (or rejects the match: placeholder, low
 * entropy, allow-listed) and returns its span. It may move `regex.lastIndex` to resume the scan elsewhere.
 */
export interface PatternRule {
  /** Full id, e.g. `gitleaks:gitlab-pat` or `genesis:assignment`. */
  id: string;
  /** Short name used in the marker `[REDACTED:<name>]` ([a-z0-9-] only). */
  name: string;
  description: string;
  regex: RegExp;
  /** Lower-case keywords; the rule runs only on a text containing one. Empty: always runs. */
  keywords: readonly string[];
  secret: (match: RegExpExecArray, text: string) => SecretSpan | undefined;
}

// A secret shorter than this is not searched for elsewhere in the text (see echoSpans).
const MIN_ECHO_LENGTH = 8;

/** Runs a fixed set of pattern rules; builds their keyword index once. */
export class PatternScanner {
  private readonly index: KeywordIndex;
  private readonly always: readonly PatternRule[];
  private readonly byKeyword = new Map<string, PatternRule[]>();
  private readonly order = new Map<PatternRule, number>();
  /** Per rule, the same regex with the `d` flag, sticky: run only where a match starts (see scan). */
  private readonly withIndices = new Map<PatternRule, RegExp>();

  constructor(readonly rules: readonly PatternRule[]) {
    rules.forEach((rule, i) => {
      this.order.set(rule, i);
      this.withIndices.set(rule, new RegExp(rule.regex.source, `${rule.regex.flags.replace(/[gd]/g, '')}yd`));
    });
    for (const rule of rules) {
      for (const keyword of rule.keywords) {
        const list = this.byKeyword.get(keyword) ?? [];
        list.push(rule);
        this.byKeyword.set(keyword, list);
      }
    }
    this.always = rules.filter((r) => r.keywords.length === 0);
    this.index = new KeywordIndex([...this.byKeyword.keys()]);
  }

  /** The rules whose keywords occur in `text`, in rule order. */
  candidates(text: string): PatternRule[] {
    const selected = new Set<PatternRule>(this.always);
    for (const keyword of this.index.found(text.toLowerCase())) {
      for (const rule of this.byKeyword.get(keyword)!) selected.add(rule);
    }
    // Usually a handful: sort those rather than filter every rule.
    return [...selected].sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }

  /** Every finding of every rule in `text`; synchronous and never throws for a compiled rule set. */
  scan(text: string): ScanHit[] {
    if (text.length === 0) return [];
    const hits: ScanHit[] = [];
    const markers = markerRanges(text);
    for (const rule of this.candidates(text)) {
      // Scanning runs the rule without `d` (match indices cost an allocation per exec and slow V8's
      // search); where it matches, the sticky `d` twin re-runs at that position only and, being the same
      // pattern from the same start, yields the same match with its group indices.
      const sticky = this.withIndices.get(rule)!;
      rule.regex.lastIndex = 0;
      for (let found = rule.regex.exec(text); found !== null; found = rule.regex.exec(text)) {
        if (found[0].length === 0) rule.regex.lastIndex++;
        sticky.lastIndex = found.index;
        const m = sticky.exec(text)!;
        const span = rule.secret(m, text);
        if (!span || span.end <= span.start) continue;
        // A marker of an earlier redaction is not a secret (nor part of one): rescans stay idempotent.
        if (markers.some(([a, b]) => span.start < b && span.end > a)) continue;
        hits.push({
          ruleId: rule.id,
          // Static text only: a finding is logged and stored, so it never carries the secret.
          message: `${rule.id}: ${rule.description}`,
          spans: [[span.start, span.end], ...echoSpans(text, span)],
        });
      }
    }
    return hits;
  }
}

const MARKER = /\[REDACTED(?::[a-z0-9+-]*)?\]/g;

function markerRanges(text: string): Array<readonly [number, number]> {
  if (!text.includes('[REDACTED')) return [];
  return [...text.matchAll(MARKER)].map((m) => [m.index, m.index + m[0].length] as const);
}

/** Other occurrences of the secret in the text: the same token repeated where no rule would match it. */
function echoSpans(text: string, span: SecretSpan): Array<readonly [number, number]> {
  const value = text.slice(span.start, span.end);
  if (value.length < MIN_ECHO_LENGTH) return [];
  const found: Array<readonly [number, number]> = [];
  for (let i = text.indexOf(value); i !== -1; i = text.indexOf(value, i + value.length)) {
    if (i !== span.start) found.push([i, i + value.length]);
  }
  return found;
}

/** Shannon entropy in bits per character, as gitleaks computes it for its `entropy` thresholds. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of value) counts.set(c, (counts.get(c) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** The span of capture group `group` of a match made with the `d` flag. */
export function groupSpan(match: RegExpExecArray, group: number): SecretSpan | undefined {
  const at = match.indices?.[group];
  return at ? { start: at[0], end: at[1] } : undefined;
}
