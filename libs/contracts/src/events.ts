/** TypeScript shapes of the JSON Schemas in ../schemas (the schemas are the source of truth). */
export type LearningKind = 'correction' | 'pattern' | 'error_fix';
export const LEARNING_KINDS: readonly LearningKind[] = ['correction', 'pattern', 'error_fix'];
export const DEFAULT_MODEL_ID = 'genesis';

export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  time: string;
  source: string;
  model_id: string;
  cycle_id?: string;
  correlation_id: string;
  causation_id: string;
  data: T;
}

export type MetadataValue = string | number | boolean | null;

export interface LearningInput {
  kind: LearningKind;
  model_id?: string;
  source: string;
  language?: string;
  context?: string;
  model_output?: string;
  correction: string;
  produced_by?: string;
  metadata?: Record<string, MetadataValue>;
}

export interface LearningCapturedV1 extends LearningInput {
  learning_id: string;
  model_id: string;
  received_at: string;
  api_key_id?: string;
}

export interface LearningStoredV1 {
  learning_id: string;
  model_id: string;
  kind: LearningKind;
  source?: string;
  language?: string;
  content_hash: string;
  redactions: number;
  stored_at: string;
}

export interface RejectionReason {
  code: string;
  message: string;
}

export interface LearningRejectedV1 {
  learning_id: string;
  model_id: string;
  status: 'duplicate' | 'quarantined';
  duplicate_of?: string;
  reason: RejectionReason;
}
