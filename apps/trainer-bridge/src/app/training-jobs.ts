import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { SUBJECTS, makeEnvelope, type EventEnvelope, type JobsTrainV1 } from '@genesis/contracts';
import { enqueueEvent } from '@genesis/persistence';
import { getFamily } from '@genesis/registry';
import type { BridgeConfig } from './trainer-bridge.config';

export interface SnapshotRef {
  id: string;
  bucket: string;
  key: string;
  sha256: string;
  train_records: number;
}

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

/**
 * Queues one training attempt: a training_jobs row and its jobs.train message (through the outbox,
 * in the caller's transaction). Every attempt is a new job id, so the worker's per-job
 * idempotency never swallows a deliberate retry.
 */
export async function queueTrainingJob(
  m: EntityManager,
  config: BridgeConfig,
  cycle: { id: string; model_id: string },
  snapshot: SnapshotRef,
  attempt: number,
  cause: EventEnvelope<unknown>,
  now = new Date(),
): Promise<string> {
  const jobId = randomUUID();
  const deadline = new Date(now.getTime() + config.deadlineMinutes * 60_000);
  const hyperparameters = trainingHyperparameters(config, await adoptedTrainingConfig(m, cycle.model_id));
  await m.query(
    `INSERT INTO training_jobs (job_id, cycle_id, attempt, status, deadline) VALUES ($1, $2, $3, 'queued', $4)`,
    [jobId, cycle.id, attempt, deadline],
  );
  const job: JobsTrainV1 = {
    job_id: jobId,
    // The family's own base model when it names one (ADR 0022), else the deployment's.
    base_model: (await getFamily(m, cycle.model_id))?.base_model ?? config.baseModel,
    dataset: {
      bucket: snapshot.bucket,
      key: snapshot.key,
      sha256: snapshot.sha256,
      records: snapshot.train_records,
    },
    seed: config.seed,
    attempt,
    deadline: deadline.toISOString(),
    ...(hyperparameters ? { hyperparameters } : {}),
  };
  await enqueueEvent(
    m,
    SUBJECTS.jobsTrain,
    makeEnvelope(SUBJECTS.jobsTrain, job, {
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
