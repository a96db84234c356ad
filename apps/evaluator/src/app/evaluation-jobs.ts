import type { EntityManager } from 'typeorm';
import {
  SUBJECTS,
  type AdapterRef,
  type EvaluationRole,
  type EventEnvelope,
  type JobsEvaluateV1,
} from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import type { JobKind, JobLifecycle } from '@genesis/jobs';
import { counter } from '@genesis/observability';
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
    anchor?: JobsEvaluateV1['anchor'] | null;
  };
  status: 'running' | 'completed' | 'failed';
}

export interface ModelUnderTest {
  version: string | null;
  base_model: string;
  adapter: AdapterRef | null;
}

export const EVALUATION = 'evaluation';

const jobOutcomes = counter('genesis_evaluation_jobs_total', 'Evaluation jobs by role and outcome', [
  'model_id',
  'role',
  'outcome',
]);

/** Where a job's per-item results go: per job, so a retry never overwrites an earlier attempt's. */
function outputKey(evaluationId: string, jobId: string): string {
  return `eval-results/${evaluationId}/${jobId}.jsonl`;
}

/**
 * The evaluation kind of the one job lifecycle (ADR 0023). Both roles' jobs meet on their
 * evaluation row, so it is locked before a job row (the same order as the result handler); the
 * evaluation fails, and with it the cycle, when a role has no attempt left or its job expires past
 * GENESIS_EVALUATION_DEADLINE with none left.
 */
export function evaluationJobKind(config: EvaluatorConfig): JobKind<JobsEvaluateV1> {
  return {
    kind: EVALUATION,
    subject: SUBJECTS.jobsEvaluate,
    source: 'evaluator',
    maxAttempts: config.maxAttempts,
    deadlineMs: config.deadlineMs,
    deadlineCode: 'EVALUATION_DEADLINE_EXCEEDED',
    renew(previous, next) {
      return {
        ...previous,
        job_id: next.jobId,
        attempt: next.attempt,
        deadline: next.deadline,
        output: { ...previous.output, key: outputKey(previous.evaluation_id, next.jobId) },
      };
    },
    async lockOwner(m, job) {
      await m.query(`SELECT id FROM evaluations WHERE id = $1 FOR UPDATE`, [job.parent_id]);
    },
    async ownerWaiting(m, job) {
      const [evaluation] = await m.query(`SELECT status FROM evaluations WHERE id = $1`, [job.parent_id]);
      return evaluation?.status === 'running';
    },
    async giveUp(m, job, reason) {
      await failEvaluation(m, job.parent_id!, reason.code, reason.message);
    },
    countOutcome(job, outcome) {
      jobOutcomes.inc({ model_id: job.model_id, role: job.role ?? 'unknown', outcome });
    },
  };
}

/** The evaluation fails, and its cycle with the phase and the reason. */
export async function failEvaluation(
  m: EntityManager,
  evaluationId: string,
  code: string,
  message: string,
): Promise<void> {
  const [evaluation] = await m.query(`SELECT cycle_id FROM evaluations WHERE id = $1`, [evaluationId]);
  await m.query(`UPDATE evaluations SET status = 'failed', reason = $2, completed_at = now() WHERE id = $1`, [
    evaluationId,
    `${code}: ${message}`,
  ]);
  await transitionCycle(m, evaluation.cycle_id, 'failed', {
    failure: { code, message },
    failedEventSource: 'evaluator',
  });
}

/**
 * Queues the first evaluation attempt of one role: a jobs row and its jobs.evaluate message
 * (outbox, caller's transaction). Every attempt is a new job id, so the worker's per-job
 * idempotency never swallows a deliberate retry.
 */
export async function queueEvaluationJob(
  jobs: JobLifecycle,
  m: EntityManager,
  config: EvaluatorConfig,
  evaluation: EvaluationRow,
  role: EvaluationRole,
  model: ModelUnderTest,
  cause: Pick<EventEnvelope<unknown>, 'id' | 'correlation_id'>,
): Promise<string> {
  return jobs.queue<JobsEvaluateV1>(m, EVALUATION, {
    modelId: evaluation.model_id,
    cycleId: evaluation.cycle_id,
    parentId: evaluation.id,
    role,
    cause,
    request: ({ jobId, attempt, deadline }) => ({
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
      output: { bucket: evaluation.suite.bucket, key: outputKey(evaluation.id, jobId) },
      generation: {
        ...(config.maxNewTokens > 0 ? { max_new_tokens: config.maxNewTokens } : {}),
        max_new_tokens_cap: config.maxNewTokensCap,
      },
      ...(evaluation.suite.anchor ? { anchor: evaluation.suite.anchor } : {}),
      sandbox: config.sandbox,
      seed: config.gate.seed,
      attempt,
      deadline,
    }),
  });
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
