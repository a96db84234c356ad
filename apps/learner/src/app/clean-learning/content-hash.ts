import { createHash } from 'node:crypto';
import { normaliseText } from '@genesis/contracts';

export interface HashableLearning {
  model_id: string;
  kind: string;
  language?: string;
  context?: string;
  model_output?: string;
  correction: string;
}

// Part of the hashed payload, so a change to the normalisation or the field list can be rolled out as a
// new scheme instead of silently colliding with (or missing) hashes already stored.
const HASH_SCHEME = 'genesis.learning-content.v1';

/**
 * Canonical form used for duplicate detection: the shared `normaliseText` of @genesis/contracts (NFC,
 * CRLF/CR -> LF, trailing whitespace of every line, leading/trailing blank lines; indentation counts),
 * the same definition the worker's exact match uses (test vectors shared with Python: ADR 0016).
 */
export const normaliseForHash = normaliseText;

/**
 * sha256 (hex) of an unambiguous encoding of the normalised learning: a JSON array, so moving text from one
 * field to another changes the hash. model_id is included because dedup is per model; language is
 * lower-cased; model_id and kind are taken verbatim. A missing optional field hashes like an empty one.
 */
export function learningContentHash(l: HashableLearning): string {
  const payload = JSON.stringify([
    HASH_SCHEME,
    l.model_id,
    l.kind,
    (l.language ?? '').toLowerCase(),
    normaliseForHash(l.context ?? ''),
    normaliseForHash(l.model_output ?? ''),
    normaliseForHash(l.correction),
  ]);
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}
