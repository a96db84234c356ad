/* Generated from libs/contracts/schemas/events/learning.captured.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * learning.captured v1 — a learning accepted by the gateway, not yet cleaned or stored
 */
export interface LearningCapturedV1 {
  learning_id: string;
  kind: 'correction' | 'pattern' | 'error_fix';
  model_id: string;
  source: string;
  language?: string;
  context?: string;
  model_output?: string;
  correction: string;
  tests?: string;
  produced_by?: string;
  metadata?: {
    [k: string]: string | number | boolean | null;
  };
  received_at: string;
  api_key_id?: string;
}
