import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { SUBJECTS, makeEnvelope, type EventEnvelope, type JobsArchitectureV1 } from '@genesis/contracts';
import type { CycleKind } from '@genesis/cycles';
import { enqueueEvent } from '@genesis/persistence';
import type { BridgeConfig } from './trainer-bridge.config';
import { adoptedTrainingConfig, queueTrainingJob, type SnapshotRef } from './training-jobs';

/** How many earlier studies' best configurations start a new study (warm start). */
const WARM_START_STUDIES = 3;

/** The Optuna study of an architecture cycle: one per cycle, named after the model and the cycle. */
export function studyName(modelId: string, cycleId: string): string {
  return `${modelId}-${cycleId}`.replace(/[^a-zA-Z0-9_.:-]/g, '_').slice(0, 200);
}

interface StudyRow {
  id: string;
  study_name: string;
  budget: JobsArchitectureV1['budget'];
  search_space: NonNullable<JobsArchitectureV1['search_space']>;
  baseline: JobsArchitectureV1['baseline'] | null;
  warm_start: NonNullable<JobsArchitectureV1['warm_start']>;
}

/**
 * The cycle's study row: the one a request created (its budget), else one with this deployment's
 * defaults (an architecture cycle opened by the engine). Its baseline is the model's adopted
 * training configuration (none: the worker's defaults) and its warm start the best configurations
 * of the model's earlier studies. Idempotent per cycle.
 */
export async function ensureStudy(
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string },
): Promise<StudyRow> {
  const adopted = await adoptedTrainingConfig(m, cycle.model_id);
  const earlier = await m.query(
    `SELECT best_hyperparameters FROM architecture_studies
     WHERE model_id = $1 AND cycle_id <> $2 AND best_hyperparameters IS NOT NULL
     ORDER BY created_at DESC LIMIT ${WARM_START_STUDIES}`,
    [cycle.model_id, cycle.id],
  );
  const d = config.study;
  await m.query(
    `INSERT INTO architecture_studies (id, cycle_id, model_id, study_name, status, budget, search_space)
     VALUES ($1, $2, $3, $4, 'requested', $5, $6) ON CONFLICT (cycle_id) DO NOTHING`,
    [
      randomUUID(),
      cycle.id,
      cycle.model_id,
      studyName(cycle.model_id, cycle.id),
      JSON.stringify({ trials: d.trials, worker_seconds: d.workerSeconds }),
      JSON.stringify({}),
    ],
  );
  await m.query(
    `UPDATE architecture_studies SET baseline = $2, warm_start = $3, updated_at = now() WHERE cycle_id = $1`,
    [
      cycle.id,
      adopted ? JSON.stringify(adopted.hyperparameters) : null,
      JSON.stringify(earlier.map((r: { best_hyperparameters: unknown }) => r.best_hyperparameters)),
    ],
  );
  const [row] = await m.query(
    `SELECT id, study_name, budget, search_space, baseline, warm_start FROM architecture_studies WHERE cycle_id = $1`,
    [cycle.id],
  );
  const study = row as StudyRow;
  // a request's budget may leave a field out: this deployment's default fills it
  const asked: Partial<StudyRow['budget']> = study.budget;
  study.budget = { trials: d.trials, worker_seconds: d.workerSeconds, ...asked };
  return study;
}

/**
 * Queues one runner of the cycle's study: a training_jobs row (the job lifecycle — deadline, retry,
 * expiry — is the training job's) and its jobs.architecture message, through the outbox in the
 * caller's transaction. A retry is a new job on the same study, which resumes it.
 */
export async function queueArchitectureJob(
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string },
  snapshot: SnapshotRef & { eval_key?: string; eval_sha256?: string },
  attempt: number,
  cause: EventEnvelope<unknown>,
  now = new Date(),
): Promise<string> {
  const study = await ensureStudy(m, config, cycle);
  const jobId = randomUUID();
  const deadline = new Date(now.getTime() + config.study.deadlineMinutes * 60_000);
  await m.query(
    `INSERT INTO training_jobs (job_id, cycle_id, attempt, status, deadline) VALUES ($1, $2, $3, 'queued', $4)`,
    [jobId, cycle.id, attempt, deadline],
  );
  await m.query(
    `UPDATE architecture_studies SET status = 'running', updated_at = now() WHERE id = $1 AND status = 'requested'`,
    [study.id],
  );
  const d = config.study;
  // a deployment that caps training steps (GENESIS_TRAINING_MAX_STEPS) caps every trial too
  const maxSteps = Math.min(d.maxSteps, config.maxSteps ?? d.maxSteps);
  const minSteps = Math.min(d.minSteps, maxSteps);
  const job: JobsArchitectureV1 = {
    job_id: jobId,
    base_model: config.baseModel,
    dataset: {
      bucket: snapshot.bucket,
      key: snapshot.key,
      sha256: snapshot.sha256,
      records: snapshot.train_records,
    },
    ...(snapshot.eval_key && snapshot.eval_sha256
      ? { suite: { bucket: snapshot.bucket, key: snapshot.eval_key, sha256: snapshot.eval_sha256 } }
      : {}),
    decontamination_level: config.decontaminationLevel,
    study: { name: study.study_name },
    budget: study.budget,
    search_space: {
      min_steps: minSteps,
      max_steps: maxSteps,
      eval_every: Math.min(d.evalEvery, minSteps),
      learning_rate: d.learningRate,
      ...study.search_space,
    },
    ...(study.baseline ? { baseline: study.baseline } : {}),
    ...(study.warm_start.length ? { warm_start: study.warm_start } : {}),
    seed: config.seed,
    attempt,
    deadline: deadline.toISOString(),
  };
  await enqueueEvent(
    m,
    SUBJECTS.jobsArchitecture,
    makeEnvelope(SUBJECTS.jobsArchitecture, job, {
      source: 'trainer-bridge',
      modelId: cycle.model_id,
      cycleId: cycle.id,
      correlationId: cause.correlation_id,
      causationId: cause.id,
      time: now,
    }),
  );
  return jobId;
}

/** The cycle's job of its kind: one training run, or one runner of its study. */
export async function queueCycleJob(
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string; kind: CycleKind },
  snapshot: SnapshotRef & { eval_key?: string; eval_sha256?: string },
  attempt: number,
  cause: EventEnvelope<unknown>,
): Promise<string> {
  return cycle.kind === 'architecture'
    ? queueArchitectureJob(m, config, cycle, snapshot, attempt, cause)
    : queueTrainingJob(m, config, cycle, snapshot, attempt, cause);
}
