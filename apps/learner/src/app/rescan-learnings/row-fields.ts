import type { LearningScan, LearningTexts } from '@genesis/secrets';

/**
 * A stored learning's every text as named fields for the scanner, and back: the three texts,
 * `source`, `language`, `produced_by`, and each key and string value of `metadata` (ARCHITECTURE §7:
 * every text a learning carries is untrusted).
 */
export interface StoredLearningRow {
  id: string;
  status: string;
  source: string;
  language: string | null;
  context: string | null;
  model_output: string | null;
  correction: string | null;
  tests?: string | null;
  produced_by: string | null;
  metadata: Record<string, unknown> | null;
}

/** The row's texts as the scanner reads them (every text a learning carries). */
export function textsOf(row: StoredLearningRow): LearningTexts {
  return {
    context: row.context ?? undefined,
    model_output: row.model_output ?? undefined,
    correction: row.correction ?? undefined,
    tests: row.tests ?? undefined,
    source: row.source,
    language: row.language ?? undefined,
    produced_by: row.produced_by ?? undefined,
    metadata: row.metadata ?? undefined,
  };
}

/** The row with the scan's cleaned texts; a text whose scan failed is dropped, never kept raw. */
export function rowFromScan(row: StoredLearningRow, scan: LearningScan): StoredLearningRow {
  const c = scan.cleaned;
  return {
    ...row,
    source: c.source ?? '[UNSCANNED]',
    language: c.language ?? null,
    context: c.context ?? null,
    model_output: c.model_output ?? null,
    correction: c.correction ?? null,
    tests: c.tests ?? null,
    produced_by: c.produced_by ?? null,
    metadata: c.metadata ?? {},
  };
}

/** The user-facing name of a finding's field: `metadata` for its keys and values. */
export function fieldName(field: string): string {
  return field.startsWith('metadata.') ? 'metadata' : field;
}
