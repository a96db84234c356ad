/** The gateway's cycle documents (docs/openapi.yaml, Cycle and /api/v1/cycles/{id}). */
export interface CycleView {
  id: string;
  model_id: string;
  status: string;
  trigger: string;
  reason: string;
  counts: Record<string, unknown> | null;
  requested_by: string | null;
  snapshot_id: string | null;
  model_version: string | null;
  score: number | null;
  failed_phase: string | null;
  failure_reason: string | null;
  opened_at: string;
  phase_entered_at: string;
  timestamps: Record<string, string | null>;
  /** Set once the evaluator has judged the candidate (GET /api/v1/evaluations/{id}). */
  evaluation_id?: string | null;
}

export interface TrainingProgress {
  step?: number;
  total_steps?: number;
  loss?: number | null;
  tokens_per_second?: number;
  eta_seconds?: number;
}

export interface TrainingJob {
  job_id: string;
  attempt: number;
  status: string;
  progress: TrainingProgress | null;
  failure: string | null;
  deadline: string;
}

export interface TimelineEntry {
  at: string;
  from: string | null;
  to: string;
  event_type: string | null;
  event_id: string | null;
  reason: string | null;
}

export interface CycleDetail extends CycleView {
  training: TrainingJob[];
  timeline: TimelineEntry[];
}

/** An evaluation as GET /api/v1/evaluations/{id} returns it; read defensively (fields may grow). */
export interface Evaluation {
  decision?: string;
  reason?: string;
  p_value?: number | null;
  metrics?: Record<string, unknown>;
  /** Per-slice results (ADR 0020); null before slices existed. */
  slices?: EvaluationSlices | null;
  [key: string]: unknown;
}

export interface EvaluationSlices {
  enabled?: boolean;
  alpha?: number;
  clustering_version?: string | null;
  note?: string;
  unsliced_items?: number;
  slices?: {
    slice_id: string;
    label: string;
    items: number;
    champion_accuracy: number;
    candidate_accuracy: number;
    delta: number;
    adjusted_p: number | null;
    status: string;
  }[];
}

export const PHASES = [
  'opened',
  'dataset_ready',
  'training',
  'trained',
  'evaluating',
  'evaluated',
  'deploying',
  'deployed',
  'rejected',
  'inconclusive',
  'failed',
] as const;

export function isTerminal(status: string): boolean {
  return status === 'deployed' || status === 'rejected' || status === 'inconclusive' || status === 'failed';
}
