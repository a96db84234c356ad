/* Generated from libs/contracts/schemas/events/learning.stored.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * learning.stored v1 — a cleaned learning accepted as training material
 */
export interface LearningStoredV1 {
  learning_id: string;
  model_id: string;
  kind: 'correction' | 'pattern' | 'error_fix';
  source?: string;
  language?: string;
  content_hash: string;
  redactions: number;
  stored_at: string;
}
