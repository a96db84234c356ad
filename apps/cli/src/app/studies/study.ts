/** What GET /api/v1/models/{id}/studies[/{study}] return (docs/openapi.yaml, ADR 0025). */
export interface StudyItem {
  id: string;
  study: string;
  status: string;
  cycle_id: string;
  cycle_status: string;
  candidate_version: string | null;
  budget: Record<string, number>;
  trials: number;
  pruned: number;
  best: { trial: number; value: number | null; hyperparameters: Record<string, unknown> | null } | null;
  adopted: boolean;
  created_at: string;
  /** Kept by the trainer-bridge as each trial job finishes (ADR 0025); null before the first. */
  progress?: StudyProgress | null;
}

export interface StudyProgress {
  parallelism: number;
  trials_finished: number;
  trials_complete: number;
  trials_pruned: number;
  trials_failed: number;
  trials_running: number;
  worker_seconds_spent: number;
  best_trial: number | null;
  best_value: number | null;
  stopped_by: 'trials' | 'worker_seconds' | null;
}

export interface StudyTrial {
  number: number;
  state: string;
  value: number | null;
  params: Record<string, unknown>;
  pruned_at_step?: number | null;
  duration_seconds?: number | null;
  worker_id?: string | null;
}

export interface StudyDetail extends Omit<StudyItem, 'trials'> {
  model_id: string;
  counts: Record<string, number>;
  spent: { trials: number; worker_seconds: number } | null;
  validation: { train_records: number; validation_records: number; suite_excluded: number } | null;
  importance: { values: Record<string, number> | null; reason: string | null };
  trials: StudyTrial[];
  failure: string | null;
}

export interface StudyList {
  model_id: string;
  training_config: {
    hyperparameters: Record<string, unknown>;
    study_name: string;
    model_version: string | null;
  } | null;
  items: StudyItem[];
}
