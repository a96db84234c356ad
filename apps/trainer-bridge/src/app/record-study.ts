import type { EntityManager } from 'typeorm';
import type { StudySummary, TrainingCompletedV1 } from '@genesis/contracts';

/**
 * An architecture study's answer (ADR 0025) → its row: best trial, best configuration (what
 * model_training_configs adopts once the cycle deploys), and the summary the API serves.
 * Idempotent: a redelivered answer writes the same values.
 */
export async function recordStudyResult(
  m: EntityManager,
  cycleId: string,
  study: NonNullable<TrainingCompletedV1['study']>,
): Promise<void> {
  // The schema leaves the worker's summary open; StudySummary is how it is read (ADR 0025).
  const best = (study.summary as StudySummary).best;
  await m.query(
    `UPDATE architecture_studies
     SET status = 'completed', best_trial = $2, best_value = $3, best_hyperparameters = $4, summary = $5,
         failure = NULL, updated_at = now()
     WHERE cycle_id = $1`,
    [
      cycleId,
      study.best_trial,
      study.best_value,
      best?.hyperparameters ? JSON.stringify(best.hyperparameters) : null,
      JSON.stringify(study.summary),
    ],
  );
}

/** The study's cycle failed for good: the study says why (its trials stay in Optuna's storage). */
export async function recordStudyFailure(m: EntityManager, cycleId: string, failure: string): Promise<void> {
  await m.query(
    `UPDATE architecture_studies SET status = 'failed', failure = $2, updated_at = now()
     WHERE cycle_id = $1 AND status <> 'completed'`,
    [cycleId, failure.slice(0, 4000)],
  );
}
