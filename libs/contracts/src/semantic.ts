import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * libs/contracts/semantic (copied to dist/ by the build): the labelled near-duplicate pairs and the
 * threshold calibrated on them by apps/trainer-worker/tests/test_embedding.py (ADR 0018).
 */
export const SEMANTIC_DIR = join(__dirname, '..', 'semantic');

export interface NearDuplicateCalibration {
  /** Cosine similarity at or above which a learning is a near-duplicate of an accepted one. */
  similarity: number;
  /** The embedding model it was calibrated for; another model needs its own calibration. */
  embeddingModel: string;
}

export function nearDuplicateCalibration(): NearDuplicateCalibration {
  const json = JSON.parse(readFileSync(join(SEMANTIC_DIR, 'near-duplicate-threshold.json'), 'utf8')) as {
    similarity: number;
    embedding_model: string;
  };
  return { similarity: json.similarity, embeddingModel: json.embedding_model };
}
