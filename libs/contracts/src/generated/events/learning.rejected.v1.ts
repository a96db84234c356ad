/* Generated from libs/contracts/schemas/events/learning.rejected.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * learning.rejected v1 — a captured learning that will not become training material, and why
 */
export interface LearningRejectedV1 {
  learning_id: string;
  model_id: string;
  status: 'duplicate' | 'quarantined';
  duplicate_of?: string;
  reason: {
    code: string;
    message: string;
  };
}
