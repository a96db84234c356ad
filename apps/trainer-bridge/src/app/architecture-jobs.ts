import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { SUBJECTS, type EventEnvelope, type JobsArchitectureV1 } from '@genesis/contracts';
import type { CycleKind } from '@genesis/cycles';
import { JobLifecycle, type JobKind } from '@genesis/jobs';
import { recordStudyFailure } from './record-study';
import type { BridgeConfig } from './trainer-bridge.config';
import {
  adoptedTrainingConfig,
  baseModelOf,
  cycleIsTraining,
  datasetOf,
  failCycle,
  queueTrainingJob,
  type SnapshotRef,
} from './training-jobs';

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

export const ARCHITECTURE = 'architecture';

/**
 * The architecture kind of the one job lifecycle (ADR 0023, ADR 0025): a study runner serves its
 * cycle while the cycle is `training`; a retry is a new job on the same study (its name is in the
 * stored request), which resumes it; with no attempt left the study and the cycle fail.
 */
export function architectureJobKind(config: BridgeConfig): JobKind<JobsArchitectureV1> {
  return {
    kind: ARCHITECTURE,
    subject: SUBJECTS.jobsArchitecture,
    source: 'trainer-bridge',
    maxAttempts: config.maxAttempts,
    deadlineMs: config.study.deadlineMinutes * 60_000,
    deadlineCode: 'STUDY_DEADLINE_EXCEEDED',
    ownerWaiting: cycleIsTraining,
    async giveUp(m, job, reason) {
      await recordStudyFailure(m, job.cycle_id!, `${reason.code}: ${reason.message}`);
      await failCycle(m, job, reason);
    },
  };
}

/**
 * Queues the first runner of the cycle's study: a jobs row and its jobs.architecture message,
 * through the outbox in the caller's transaction.
 */
export async function queueArchitectureJob(
  jobs: JobLifecycle,
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string },
  snapshot: SnapshotRef & { eval_key?: string; eval_sha256?: string },
  cause: EventEnvelope<unknown>,
  now = new Date(),
): Promise<string> {
  const study = await ensureStudy(m, config, cycle);
  await m.query(
    `UPDATE architecture_studies SET status = 'running', updated_at = now() WHERE id = $1 AND status = 'requested'`,
    [study.id],
  );
  const d = config.study;
  // a deployment that caps training steps (GENESIS_TRAINING_MAX_STEPS) caps every trial too
  const maxSteps = Math.min(d.maxSteps, config.maxSteps ?? d.maxSteps);
  const minSteps = Math.min(d.minSteps, maxSteps);
  const baseModel = await baseModelOf(m, config, cycle.model_id);
  return jobs.queue<JobsArchitectureV1>(m, ARCHITECTURE, {
    modelId: cycle.model_id,
    cycleId: cycle.id,
    cause,
    now,
    request: ({ jobId, attempt, deadline }) => ({
      job_id: jobId,
      base_model: baseModel,
      dataset: datasetOf(snapshot),
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
      deadline,
    }),
  });
}

/** The cycle's job of its kind: one training run, or one runner of its study. */
export async function queueCycleJob(
  jobs: JobLifecycle,
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string; kind: CycleKind },
  snapshot: SnapshotRef & { eval_key?: string; eval_sha256?: string },
  cause: EventEnvelope<unknown>,
): Promise<string> {
  return cycle.kind === 'architecture'
    ? queueArchitectureJob(jobs, m, config, cycle, snapshot, cause)
    : queueTrainingJob(jobs, m, config, cycle, snapshot, cause);
}
