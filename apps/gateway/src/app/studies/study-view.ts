import type { StudySummary } from '@genesis/contracts';

/** A row of architecture_studies joined with its cycle, as the studies routes read it. */
export interface StudyRow {
  id: string;
  cycle_id: string;
  model_id: string;
  study_name: string;
  status: string;
  budget: Record<string, number>;
  search_space: Record<string, unknown>;
  baseline: Record<string, unknown> | null;
  warm_start: Record<string, unknown>[];
  requested_by: string | null;
  best_trial: number | null;
  best_value: number | null;
  best_hyperparameters: Record<string, unknown> | null;
  summary: StudySummary | null;
  /** Kept by the trainer-bridge as each trial answers (ADR 0025): null before the first trials are queued. */
  progress: Record<string, unknown> | null;
  failure: string | null;
  created_at: Date;
  updated_at: Date;
  cycle_status: string;
  model_version: string | null;
  adopted: boolean | null;
}

/** Counts by trial state; pruned trials are what the median pruner stopped early. */
function counts(summary: StudySummary | null): Record<string, number> {
  return { complete: 0, pruned: 0, fail: 0, running: 0, waiting: 0, ...(summary?.counts ?? {}) };
}

function best(row: StudyRow) {
  return row.best_trial === null
    ? null
    : { trial: row.best_trial, value: row.best_value, hyperparameters: row.best_hyperparameters };
}

const CYCLE_ENDED = ['deployed', 'rejected', 'inconclusive', 'failed'];

/**
 * A study whose cycle ended before the study answered (e.g. failed by a dead letter on another
 * path) reads as failed, whatever its row still says.
 */
function status(row: StudyRow): string {
  const unanswered = row.status === 'requested' || row.status === 'running';
  return unanswered && CYCLE_ENDED.includes(row.cycle_status) ? 'failed' : row.status;
}

export function studyListItem(row: StudyRow) {
  const c = counts(row.summary);
  return {
    id: row.id,
    study: row.study_name,
    status: status(row),
    cycle_id: row.cycle_id,
    cycle_status: row.cycle_status,
    candidate_version: row.model_version,
    budget: row.budget,
    trials: row.summary?.trials?.length ?? 0,
    pruned: c['pruned'],
    best: best(row),
    progress: row.progress ?? null,
    adopted: row.adopted === true,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * One study: every trial with its parameters, value (validation loss) and intermediate values, the
 * counts (pruned included), the best, the parameter importance (null with the reason when fewer
 * than two trials completed), and whether its best configuration is the model's training
 * configuration now (its cycle deployed).
 */
export function studyView(row: StudyRow) {
  const summary = row.summary;
  return {
    ...studyListItem(row),
    model_id: row.model_id,
    requested_by: row.requested_by,
    objective: 'validation_loss (lower is better)',
    baseline: row.baseline,
    warm_start: row.warm_start,
    search_space: row.search_space,
    counts: counts(summary),
    spent: summary?.budget
      ? { trials: summary.budget.spent_trials, worker_seconds: summary.budget.spent_worker_seconds }
      : null,
    validation: summary?.['validation'] ?? null,
    importance: summary?.importance ?? { values: null, reason: 'the study has not reported yet' },
    trials: summary?.trials ?? [],
    failure: row.failure,
    updated_at: row.updated_at.toISOString(),
  };
}
