/**
 * The TypeScript shapes of what crosses a process. The JSON Schemas in ../schemas are the contract;
 * the types are generated from them into ./generated (`npm run contracts:types`, ADR 0026) and only
 * named here: the names the services import, and the parts of a schema they pass around on their
 * own (a schema's nested object, picked by its path). Nothing below restates a field by hand, so a
 * schema change shows up as a compile error where it matters, never as a silent drift.
 */
import type * as G from './generated';

export type LearningKind = G.LearningInput['kind'];
export const LEARNING_KINDS: readonly LearningKind[] = ['correction', 'pattern', 'error_fix'];
export const DEFAULT_MODEL_ID = 'genesis';

/** The envelope (schemas/envelope.schema.json) with its `data` typed by the event's own schema. */
export type EventEnvelope<T = unknown> = Omit<G.Envelope, 'data'> & { data: T };

export type MetadataValue = NonNullable<G.LearningInput['metadata']>[string] & {};

export type LearningInput = G.LearningInput;
export type LearningCapturedV1 = G.LearningCapturedV1;
export type LearningStoredV1 = G.LearningStoredV1;
export type RejectionReason = G.LearningRejectedV1['reason'];
export type LearningRejectedV1 = G.LearningRejectedV1;

/** Improvement cycles (ADR 0004). */
export type CycleTrigger = G.ThresholdReachedV1['trigger'];
export type ThresholdCounts = G.ThresholdReachedV1['counts'];
export type ThresholdReachedV1 = G.ThresholdReachedV1;
export type CycleRequestedV1 = G.CycleRequestedV1;
export type CycleFailedV1 = G.CycleFailedV1;
export type FeedbackOutcome = G.FeedbackRecordedV1['outcome'];
export type FeedbackRecordedV1 = G.FeedbackRecordedV1;

// --- training (trainer-bridge ⇄ trainer-worker) --------------------------------------------------

/** A dataset snapshot or adapter file in the artifact store (JetStream Object Store by default). */
export type ObjectRef = Pick<G.JobsTrainV1['dataset'], 'bucket' | 'key'>;
/** Job ids are idempotency keys: a redelivered job never yields a second result; a retry is a new job. */
export type JobsTrainV1 = G.JobsTrainV1;
export type TrainingProgressV1 = G.TrainingProgressV1;
/** What the worker actually trained with (training.completed). */
export type TrainingHyperparameters = G.TrainingCompletedV1['hyperparameters'];
/** The LoRA hyperparameters a job may set (jobs.train overrides) and a result reports. */
export type LoraHyperparameters = Omit<
  TrainingHyperparameters,
  'epochs' | 'packing' | 'bf16' | 'gradient_checkpointing'
>;
/** At most one per job: its envelope id is a uuid v5 of the job id (Nats-Msg-Id dedup). */
export type TrainingCompletedV1 = G.TrainingCompletedV1;

/**
 * An architecture study as the worker summarises it (ADR 0025); the API serves it as is. The schema
 * leaves training.completed's `study.summary` open (the worker's own report), so this is a reading
 * of it, every field optional.
 */
export interface StudySummary {
  study_name?: string;
  trials?: Array<{
    number: number;
    state: string;
    value: number | null;
    params: Record<string, unknown>;
    hyperparameters?: Record<string, unknown> | null;
    intermediate?: Record<string, number>;
    pruned_at_step?: number | null;
    duration_seconds?: number | null;
  }>;
  counts?: Record<string, number>;
  budget?: { trials: number; worker_seconds: number; spent_trials: number; spent_worker_seconds: number };
  best?: {
    number: number;
    value: number;
    params: Record<string, unknown>;
    hyperparameters?: Record<string, unknown>;
  } | null;
  importance?: { values: Record<string, number> | null; reason: string | null };
  [key: string]: unknown;
}

/**
 * One trial of an architecture cycle's Optuna study (ADR 0025, amended): the bridge queues at most
 * the study's parallelism of them; the worker answers with study.trial.finished or training.failed.
 */
export type JobsArchitectureV1 = G.JobsArchitectureV1;
/**
 * study.trial.finished: one trial ran to its end — the answer to its job and the study's progress
 * on the bus. `artifact` / `trained` are present when it was the best finished trial (adapter stored).
 */
export type StudyTrialFinishedV1 = G.StudyTrialFinishedV1;
export type TrainingPhase = NonNullable<G.TrainingFailedV1['phase']>;
/** retryable=false: the job can never succeed (e.g. an invalid snapshot); it is not redelivered. */
export type TrainingFailedV1 = G.TrainingFailedV1;
export type ModelTrainedV1 = G.ModelTrainedV1;

// --- evaluation (evaluator ⇄ trainer-worker) and deployment (deployer) --------------------------

export type EvaluationRole = G.JobsEvaluateV1['role'];
export type AdapterRef = NonNullable<G.JobsEvaluateV1['model']['adapter']>;
/** One model (base + optional adapter) on one frozen suite; one job per role, same suite. */
export type JobsEvaluateV1 = G.JobsEvaluateV1;
/** Aggregates of one model on a suite (definitions in evaluation.completed.v1.schema.json). */
export type EvaluationMetrics = G.EvaluationCompletedV1['metrics'];
export type EvaluationCompletedV1 = G.EvaluationCompletedV1;
export type EvaluationFailedV1 = G.EvaluationFailedV1;
/** One line of the per-item results (artifacts/eval-result.v1.schema.json). */
export type EvalItemResult = G.EvalResultV1;

export type PairedTestResult = G.ModelEvaluatedV1['test'];
export type GuardCheck = G.ModelEvaluatedV1['guards'][number];
/** The gate's outcome: `inconclusive` = the suite could not tell (ADR 0015); the champion stays. */
export type GateDecisionName = G.ModelEvaluatedV1['decision'];
/** What the suite could have detected (model.evaluated.v1 `power`). */
export type GatePower = NonNullable<G.ModelEvaluatedV1['power']>;
/** Per-slice (topic) results of the in-domain items and the slice gate (ADR 0020). */
export type SliceGateResult = NonNullable<G.ModelEvaluatedV1['slices']>;
/** One topic slice of the in-domain suite: both models' accuracy on its items, paired (ADR 0020). */
export type SliceResult = SliceGateResult['slices'][number];
/** The regression and anchor suites' non-inferiority check. */
export type NonInferiorityCheck = NonNullable<G.ModelEvaluatedV1['non_inferiority']>;
/** One constraint in force for a candidate: the family's or its task's limit, the stricter winning (ADR 0027). */
export type GateConstraintCheck = NonNullable<G.ModelEvaluatedV1['constraints']>[number];
export type ModelEvaluatedV1 = G.ModelEvaluatedV1;

export type DeploymentTargetName = G.ModelDeployedV1['target'];
export type ModelDeployedV1 = G.ModelDeployedV1;
/** `outcome` absent = rejected; `inconclusive`: not promoted because the suite could not tell (ADR 0015). */
export type ModelRejectedV1 = G.ModelRejectedV1;
export type RollbackRequestedV1 = G.RollbackRequestedV1;
export type ModelRolledBackV1 = G.ModelRolledBackV1;

/** Rescan and forget (ADR 0017): the job id travels; the job row holds the rest. */
export type LearningRescanKind = G.LearningRescanRequestedV1['kind'];
export type LearningRescanRequestedV1 = G.LearningRescanRequestedV1;
export type LearningRescannedV1 = G.LearningRescannedV1;

/** The improvement engine's task lifecycle (ADR 0024): task.queued / started / completed / cancelled. */
export type TaskEventV1 = G.TaskQueuedV1 | G.TaskStartedV1 | G.TaskCompletedV1 | G.TaskCancelledV1;
export type TaskKindName = TaskEventV1['kind'];
export type TaskStatusName = TaskEventV1['status'];
export type TaskQueuedV1 = G.TaskQueuedV1;
export type TaskStartedV1 = G.TaskStartedV1;
export type TaskCompletedV1 = G.TaskCompletedV1;
export type TaskCancelledV1 = G.TaskCancelledV1;

/** engine.iteration_requested: someone asked for a planning iteration now (the envelope names the default model). */
export type EngineIterationRequestedV1 = G.EngineIterationRequestedV1;

/** workers.heartbeat (core NATS, not stored; ADR 0023): a worker's capacity and memory. */
export type WorkerHeartbeatV1 = G.WorkersHeartbeatV1;

/**
 * The embedder's core request/reply (schemas/requests; ADR 0018, 0020): what is asked, and the answer
 * or an error (`*_BAD_REQUEST`: the request's fault, never retried).
 */
export type EmbeddingsComputeRequestV1 = G.EmbeddingsComputeRequestV1;
export type EmbeddingsComputeReplyV1 = G.EmbeddingsComputeReplyV1;
export type EmbeddingsClusterRequestV1 = G.EmbeddingsClusterRequestV1;
export type EmbeddingsClusterReplyV1 = G.EmbeddingsClusterReplyV1;
export type RequestErrorReply = Extract<G.EmbeddingsComputeReplyV1, { error: unknown }>;

/** The artifacts a job reads or writes (schemas/artifacts): a snapshot's line, a suite's item. */
export type DatasetRecordV1 = G.DatasetRecordV1;
export type EvalItemV1 = G.EvalItemV1;
