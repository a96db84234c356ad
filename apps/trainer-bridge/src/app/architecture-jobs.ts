import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { SUBJECTS, type EventEnvelope, type JobsArchitectureV1 } from '@genesis/contracts';
import type { CycleKind } from '@genesis/cycles';
import { JobLifecycle, type JobKind } from '@genesis/jobs';
import { recordStudyFailure } from './record-study';
import { countFailedTrial, emptyProgress, trialsRunning } from './study-metrics';
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
  budget: JobsArchitectureV1['budget'] & { parallelism?: number };
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
  study.budget = { trials: d.trials, worker_seconds: d.workerSeconds, parallelism: d.parallelism, ...asked };
  // The row keeps the budget in force, which the bridge enforces trial by trial and the API shows.
  await m.query(`UPDATE architecture_studies SET budget = $2 WHERE id = $1`, [
    study.id,
    JSON.stringify(study.budget),
  ]);
  return study;
}

export const ARCHITECTURE = 'architecture';

/**
 * The architecture kind of the one job lifecycle (ADR 0023, ADR 0025 amended): one job is ONE trial
 * of the cycle's study, with a trial's deadline; a retry is a new job (new id) that asks a new trial
 * of the same study. A trial job given up on (no attempt left, or a failure no retry can fix: the
 * snapshot, the base model) ends the study and the cycle with its reason.
 */
export function architectureJobKind(config: BridgeConfig): JobKind<JobsArchitectureV1> {
  return {
    kind: ARCHITECTURE,
    subject: SUBJECTS.jobsArchitecture,
    source: 'trainer-bridge',
    maxAttempts: config.maxAttempts,
    deadlineMs: config.study.trialDeadlineMinutes * 60_000,
    deadlineCode: 'TRIAL_DEADLINE_EXCEEDED',
    // Trials of one study end concurrently, and the study row and the cycle are what they meet on:
    // every path locks the cycle first (as the monitor's sweeper and the cycle trigger do), then
    // the job, then the study row, so none waits on another in a circle.
    async lockOwner(m, job) {
      if (job.cycle_id)
        await m.query(`SELECT 1 FROM improvement_cycles WHERE id = $1 FOR UPDATE`, [job.cycle_id]);
    },
    ownerWaiting: cycleIsTraining,
    countOutcome(job, outcome) {
      if (outcome !== 'completed') countFailedTrial(job.model_id);
    },
    async giveUp(m, job, reason) {
      await recordStudyFailure(m, job.cycle_id!, `${reason.code}: ${reason.message}`);
      await failCycle(m, job, reason);
      trialsRunning.set({ model_id: job.model_id }, 0);
    },
  };
}

/**
 * The n-th trial job of a study (1-based, in the order the bridge queued them; not Optuna's trial
 * number). Its retries keep the role and count their attempts, as an evaluation's runs do.
 */
export function trialRole(n: number): string {
  return `trial-${n}`;
}

/** Trials of a study in flight at once: the request's budget, else this deployment's default. */
export function parallelismOf(study: { budget: { parallelism?: number } }, config: BridgeConfig): number {
  return study.budget.parallelism ?? config.study.parallelism;
}

/**
 * Starts the cycle's study: its row (running) and its first trial jobs, as many as the study may
 * run at once (parallelism, never more than the trial budget), each a jobs row and its
 * jobs.architecture message through the outbox in the caller's transaction. Later trials are
 * queued as trials finish (study-trials.ts). Returns the first job's id.
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
  // the worker reports spent / left against the trial and worker-second budget; parallelism is ours
  const budget = { trials: study.budget.trials, worker_seconds: study.budget.worker_seconds };
  const request = (job: { jobId: string; attempt: number; deadline: string }): JobsArchitectureV1 => ({
    job_id: job.jobId,
    base_model: baseModel,
    dataset: datasetOf(snapshot),
    ...(snapshot.eval_key && snapshot.eval_sha256
      ? { suite: { bucket: snapshot.bucket, key: snapshot.eval_key, sha256: snapshot.eval_sha256 } }
      : {}),
    decontamination_level: config.decontaminationLevel,
    study: { name: study.study_name },
    budget,
    search_space: {
      min_steps: minSteps,
      max_steps: maxSteps,
      eval_every: Math.min(d.evalEvery, minSteps),
      learning_rate: d.learningRate,
      ...(d.ranks ? { ranks: d.ranks } : {}),
      ...(d.alphaRatios ? { alpha_ratios: d.alphaRatios } : {}),
      ...(d.targetSets ? { target_sets: d.targetSets } : {}),
      ...(d.dropoutMax !== undefined ? { dropout: [0, d.dropoutMax] } : {}),
      ...study.search_space,
    },
    ...(study.baseline ? { baseline: study.baseline } : {}),
    ...(study.warm_start.length ? { warm_start: study.warm_start } : {}),
    seed: config.seed,
    attempt: job.attempt,
    deadline: job.deadline,
  });
  const first = Math.min(parallelismOf(study, config), study.budget.trials);
  const ids: string[] = [];
  for (let i = 1; i <= first; i++)
    ids.push(
      await jobs.queue<JobsArchitectureV1>(m, ARCHITECTURE, {
        modelId: cycle.model_id,
        cycleId: cycle.id,
        role: trialRole(i),
        cause,
        now,
        request,
      }),
    );
  await m.query(`UPDATE architecture_studies SET progress = $2, updated_at = now() WHERE id = $1`, [
    study.id,
    JSON.stringify(emptyProgress(parallelismOf(study, config), first)),
  ]);
  trialsRunning.set({ model_id: cycle.model_id }, first);
  return ids[0]!;
}

/** The cycle's first job(s) of its kind: one training run, or the first trials of its study. */
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
