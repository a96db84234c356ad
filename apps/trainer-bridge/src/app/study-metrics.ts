import { counter, gauge, perModelSeries } from '@genesis/observability';

/** A study's trials by how they ended (ADR 0025); every model's series exist from 0. */
export const TRIAL_STATES = ['complete', 'pruned', 'failed'] as const;

export const trialsTotal = perModelSeries(
  counter('genesis_study_trials_total', 'Architecture study trials by how they ended', ['model_id', 'state']),
  { state: TRIAL_STATES },
);

export const bestValue = gauge(
  'genesis_study_best_value',
  "Best validation loss of the model's latest architecture study",
  ['model_id'],
);

export const trialsRunning = gauge(
  'genesis_study_trials_running',
  "Trial jobs of the model's architecture study in flight (queued or running)",
  ['model_id'],
);

/** A trial job that failed or expired (its retry, if any, is another job). */
export function countFailedTrial(modelId: string): void {
  trialsTotal.inc({ model_id: modelId, state: 'failed' });
}

/** The study row's progress (architecture_studies.progress), as the API shows it live. */
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
  /** Why no more trials are queued: the budget that ran out, once one did. */
  stopped_by: 'trials' | 'worker_seconds' | null;
}

export function emptyProgress(parallelism: number, running: number): StudyProgress {
  return {
    parallelism,
    trials_finished: 0,
    trials_complete: 0,
    trials_pruned: 0,
    trials_failed: 0,
    trials_running: running,
    worker_seconds_spent: 0,
    best_trial: null,
    best_value: null,
    stopped_by: null,
  };
}
