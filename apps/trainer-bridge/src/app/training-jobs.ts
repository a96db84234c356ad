import type { EntityManager } from 'typeorm';
import { SUBJECTS, type EventEnvelope, type JobsTrainV1 } from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import type { Job, JobKind, JobLifecycle } from '@genesis/jobs';
import { counter, perModelSeries } from '@genesis/observability';
import { getFamily } from '@genesis/registry';
import type { BridgeConfig } from './trainer-bridge.config';

export interface SnapshotRef {
  id: string;
  bucket: string;
  key: string;
  sha256: string;
  train_records: number;
}

export const TRAINING = 'training';

const outcomes = perModelSeries(
  counter('genesis_training_jobs_total', 'Training jobs by outcome', ['model_id', 'outcome']),
  { outcome: ['completed', 'failed', 'failed_retryable', 'expired'] },
);

/** A model's adopted training configuration (ADR 0025): its latest deployed study's best. */
export interface AdoptedTrainingConfig {
  hyperparameters: NonNullable<JobsTrainV1['hyperparameters']>;
  study_id: string;
  study_name: string;
  cycle_id: string;
}

export async function adoptedTrainingConfig(
  m: EntityManager,
  modelId: string,
): Promise<AdoptedTrainingConfig | undefined> {
  const [row] = await m.query(
    `SELECT hyperparameters, study_id, study_name, cycle_id FROM model_training_configs WHERE model_id = $1`,
    [modelId],
  );
  return row as AdoptedTrainingConfig | undefined;
}

/** The jobs.train hyperparameters: the step cap of this deployment, then the adopted configuration. */
export function trainingHyperparameters(
  config: Pick<BridgeConfig, 'maxSteps'>,
  adopted: AdoptedTrainingConfig | undefined,
): JobsTrainV1['hyperparameters'] {
  const hp = { ...(config.maxSteps ? { max_steps: config.maxSteps } : {}), ...adopted?.hyperparameters };
  return Object.keys(hp).length ? hp : undefined;
}

/** The owner of a cycle's job (training run or study runner) waits while the cycle is `training`. */
export async function cycleIsTraining(m: EntityManager, job: Job): Promise<boolean> {
  const [cycle] = await m.query(`SELECT status FROM improvement_cycles WHERE id = $1`, [job.cycle_id]);
  return cycle?.status === 'training';
}

/** No attempt left: the job's cycle fails with its reason. */
export async function failCycle(m: EntityManager, job: Job, reason: { code: string; message: string }) {
  await transitionCycle(m, job.cycle_id!, 'failed', { failure: reason, failedEventSource: 'trainer-bridge' });
}

/** The family's own base model when it names one (ADR 0022), else the deployment's. */
export async function baseModelOf(m: EntityManager, config: BridgeConfig, modelId: string): Promise<string> {
  return (await getFamily(m, modelId))?.base_model ?? config.baseModel;
}

/** A snapshot as a job request's `dataset`. */
export function datasetOf(snapshot: SnapshotRef): JobsTrainV1['dataset'] {
  return {
    bucket: snapshot.bucket,
    key: snapshot.key,
    sha256: snapshot.sha256,
    records: snapshot.train_records,
  };
}

/**
 * The training kind of the one job lifecycle (ADR 0023): a jobs.train attempt serves its cycle
 * while the cycle is `training`; with no attempt left the cycle fails with the job's reason.
 */
export function trainingJobKind(config: BridgeConfig): JobKind<JobsTrainV1> {
  return {
    kind: TRAINING,
    subject: SUBJECTS.jobsTrain,
    source: 'trainer-bridge',
    maxAttempts: config.maxAttempts,
    deadlineMs: config.deadlineMinutes * 60_000,
    deadlineCode: 'TRAINING_DEADLINE_EXCEEDED',
    ownerWaiting: cycleIsTraining,
    giveUp: failCycle,
    countOutcome(job, outcome) {
      outcomes.inc({ model_id: job.model_id, outcome });
    },
  };
}

/**
 * Queues the first training attempt of a cycle: a jobs row and its jobs.train message (through
 * the outbox, in the caller's transaction). Every attempt is a new job id, so the worker's
 * per-job idempotency never swallows a deliberate retry.
 */
export async function queueTrainingJob(
  jobs: JobLifecycle,
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string },
  snapshot: SnapshotRef,
  cause: EventEnvelope<unknown>,
  now = new Date(),
): Promise<string> {
  const baseModel = await baseModelOf(m, config, cycle.model_id);
  const hyperparameters = trainingHyperparameters(config, await adoptedTrainingConfig(m, cycle.model_id));
  return jobs.queue<JobsTrainV1>(m, TRAINING, {
    modelId: cycle.model_id,
    cycleId: cycle.id,
    cause,
    now,
    request: ({ jobId, attempt, deadline }) => ({
      job_id: jobId,
      base_model: baseModel,
      dataset: datasetOf(snapshot),
      seed: config.seed,
      attempt,
      deadline,
      ...(hyperparameters ? { hyperparameters } : {}),
    }),
  });
}
