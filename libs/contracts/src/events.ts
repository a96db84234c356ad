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

/** Improvement cycles (issue 3, ADR 0004). */
export type CycleTrigger = 'learnings' | 'time' | 'performance' | 'manual';

export interface ThresholdCounts {
  learnings_since_training: number;
  learning_threshold: number;
  days_since_training: number;
  time_threshold_days: number;
  accuracy?: number | null;
  accuracy_source?: 'online' | 'offline' | null;
  performance_threshold?: number;
  feedback_samples?: number;
}

export interface ThresholdReachedV1 {
  cycle_id: string;
  model_id: string;
  trigger: CycleTrigger;
  reason: string;
  requested_by?: string;
  opened_at: string;
  counts: ThresholdCounts;
}

export interface CycleRequestedV1 {
  cycle_id: string;
  model_id: string;
  requested_by: string;
  reason: string;
  requested_at: string;
}

export interface CycleFailedV1 {
  cycle_id: string;
  model_id: string;
  phase: string;
  reason: { code: string; message: string };
  failed_at: string;
}

export type FeedbackOutcome = 'accepted' | 'corrected';

export interface FeedbackRecordedV1 {
  feedback_id: string;
  model_id: string;
  model_version: string;
  outcome: FeedbackOutcome;
  learning_id?: string;
  source?: string;
  recorded_at: string;
}
