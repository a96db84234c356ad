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
    ...(config.maxSteps ? { hyperparameters: { max_steps: config.maxSteps } } : {}),
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
