import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  SUBJECTS,
  makeEnvelope,
  type AdapterRef,
  type EvaluationRole,
  type EventEnvelope,
  type JobsEvaluateV1,
} from '@genesis/contracts';
import { enqueueEvent } from '@genesis/persistence';
import { servableVersion } from '@genesis/registry';
import type { EvaluatorConfig } from './evaluator.config';

export interface EvaluationRow {
  id: string;
  cycle_id: string;
  model_id: string;
  candidate_version: string;
  champion_version: string | null;
  base_model: string;
  suite: {
    bucket: string;
    key: string;
    sha256: string;
    items: number;
    in_domain: number;
    regression: number;
    /** The name every score of this evaluation carries (ADR 0016). */
    suite_version?: string;
    in_domain_version?: number;
    /** The anchor suite the worker adds from its pinned package; items null = all. */
    anchor?: { suite: string; version: string; items: number | null } | null;
  };
  status: 'running' | 'completed' | 'failed';
}

export interface ModelUnderTest {
  version: string | null;
  base_model: string;
  adapter: AdapterRef | null;
}

/**
 * Queues one evaluation attempt for one role: an evaluation_jobs row and its jobs.evaluate message
 * (outbox, caller's transaction). Every attempt is a new job id, so the worker's per-job
 * idempotency never swallows a deliberate retry.
 */
export async function queueEvaluationJob(
  m: EntityManager,
  config: EvaluatorConfig,
  evaluation: EvaluationRow,
  role: EvaluationRole,
  model: ModelUnderTest,
  attempt: number,
  cause: Pick<EventEnvelope<unknown>, 'id' | 'correlation_id'>,
): Promise<string> {
  const jobId = randomUUID();
  await m.query(
    `INSERT INTO evaluation_jobs (job_id, evaluation_id, role, attempt, status) VALUES ($1, $2, $3, $4, 'queued')`,
    [jobId, evaluation.id, role, attempt],
  );
  const job: JobsEvaluateV1 = {
    job_id: jobId,
    evaluation_id: evaluation.id,
    role,
    model,
    suite: {
      bucket: evaluation.suite.bucket,
      key: evaluation.suite.key,
      sha256: evaluation.suite.sha256,
      items: evaluation.suite.items,
    },
    output: { bucket: evaluation.suite.bucket, key: `eval-results/${evaluation.id}/${jobId}.jsonl` },
    generation: {
      ...(config.maxNewTokens > 0 ? { max_new_tokens: config.maxNewTokens } : {}),
      max_new_tokens_cap: config.maxNewTokensCap,
    },
    ...(evaluation.suite.anchor ? { anchor: evaluation.suite.anchor } : {}),
    sandbox: config.sandbox,
    seed: config.gate.seed,
    attempt,
  };
  await enqueueEvent(
    m,
    SUBJECTS.jobsEvaluate,
    makeEnvelope(SUBJECTS.jobsEvaluate, job, {
      source: 'evaluator',
      modelId: evaluation.model_id,
      cycleId: evaluation.cycle_id,
      correlationId: cause.correlation_id,
      causationId: cause.id,
    }),
  );
  return jobId;
}

/** The model a role evaluates: a registry version (base + adapter), or the bare base model. */
export async function modelUnderTest(
  m: EntityManager,
  version: string | null,
  baseModel: string,
): Promise<ModelUnderTest> {
  if (!version) return { version: null, base_model: baseModel, adapter: null };
  const servable = await servableVersion(m, version);
  if (!servable) throw new Error(`model version ${version} has no artifact in the registry`);
  return { version, base_model: servable.base_model, adapter: servable.artifact };
}
