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
  produced_by: string | null;
  metadata: Record<string, unknown> | null;
}

export type ScanFields = Record<string, string | undefined>;

const TEXT_FIELDS = ['context', 'model_output', 'correction', 'source', 'language', 'produced_by'] as const;
const KEY = 'metadata.key.';
const VALUE = 'metadata.value.';

export function fieldsOf(row: StoredLearningRow): ScanFields {
  const fields: ScanFields = {};
  for (const name of TEXT_FIELDS) fields[name] = row[name] ?? undefined;
  Object.entries(row.metadata ?? {}).forEach(([key, value], i) => {
    fields[`${KEY}${i}`] = key;
    if (typeof value === 'string') fields[`${VALUE}${i}`] = value;
  });
  return fields;
}

/** The row's texts rebuilt from cleaned fields; a key that collides after redaction gets a suffix. */
export function rowFromFields(row: StoredLearningRow, fields: ScanFields): StoredLearningRow {
  const metadata: Record<string, unknown> = {};
  Object.values(row.metadata ?? {}).forEach((value, i) => {
    let cleanKey = fields[`${KEY}${i}`] ?? `[UNSCANNED:${i}]`;
    while (cleanKey in metadata) cleanKey = `${cleanKey}~`;
    metadata[cleanKey] = typeof value === 'string' ? (fields[`${VALUE}${i}`] ?? null) : value;
  });
  return {
    ...row,
    source: fields['source'] ?? '[UNSCANNED]',
    language: fields['language'] ?? null,
    context: fields['context'] ?? null,
    model_output: fields['model_output'] ?? null,
    correction: fields['correction'] ?? null,
    produced_by: fields['produced_by'] ?? null,
    metadata,
  };
}

/** The user-facing name of a scan field: `metadata` for its keys and values. */
export function fieldName(field: string): string {
  return field.startsWith('metadata.') ? 'metadata' : field;
}
