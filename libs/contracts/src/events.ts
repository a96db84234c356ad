/** TypeScript shapes of the JSON Schemas in ../schemas (the schemas are the source of truth). */
export type LearningKind = 'correction' | 'pattern' | 'error_fix';
export const LEARNING_KINDS: readonly LearningKind[] = ['correction', 'pattern', 'error_fix'];
export const DEFAULT_MODEL_ID = 'genesis';

export interface EventEnvelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  time: string;
  source: string;
  model_id: string;
  cycle_id?: string;
  correlation_id: string;
  causation_id: string;
  data: T;
}

export type MetadataValue = string | number | boolean | null;

export interface LearningInput {
  kind: LearningKind;
  model_id?: string;
  source: string;
  language?: string;
  context?: string;
  model_output?: string;
  correction: string;
  /** Python tests of the correction (e.g. an error_fix's failing test): a held-out item with tests is scored by running them. */
  tests?: string;
  produced_by?: string;
  metadata?: Record<string, MetadataValue>;
}

export interface LearningCapturedV1 extends LearningInput {
  learning_id: string;
  model_id: string;
  received_at: string;
  api_key_id?: string;
}

export interface LearningStoredV1 {
  learning_id: string;
  model_id: string;
  kind: LearningKind;
  source?: string;
  language?: string;
  content_hash: string;
  redactions: number;
  stored_at: string;
}

export interface RejectionReason {
  code: string;
  message: string;
}

export interface LearningRejectedV1 {
  learning_id: string;
  model_id: string;
  status: 'duplicate' | 'quarantined';
  duplicate_of?: string;
  reason: RejectionReason;
}

/** Improvement cycles (ADR 0004). */
export type CycleTrigger = 'learnings' | 'time' | 'performance' | 'manual';

export interface ThresholdCounts {
  learnings_since_training: number;
  learning_threshold: number;
  days_since_training: number;
  time_threshold_days: number;
  accuracy?: number | null;
  accuracy_source?: 'online' | 'offline' | null;
  performance_threshold?: number;
  feedback_samples?: number;
  /** Evidence since the model's last cycle ended, and what an automatic cycle needed (ADR 0014). */
  new_learnings?: number;
  new_feedback?: number;
  min_new_evidence?: number;
  consecutive_rejections?: number;
}

export interface ThresholdReachedV1 {
  cycle_id: string;
  model_id: string;
  trigger: CycleTrigger;
  reason: string;
  requested_by?: string;
  opened_at: string;
  counts: ThresholdCounts;
}

export interface CycleRequestedV1 {
  cycle_id: string;
  model_id: string;
  requested_by: string;
  reason: string;
  requested_at: string;
}

export interface CycleFailedV1 {
  cycle_id: string;
  model_id: string;
  phase: string;
  reason: { code: string; message: string };
  failed_at: string;
}

export type FeedbackOutcome = 'accepted' | 'corrected';

export interface FeedbackRecordedV1 {
  feedback_id: string;
  model_id: string;
  model_version: string;
  outcome: FeedbackOutcome;
  learning_id?: string;
  source?: string;
  recorded_at: string;
}

// --- training (trainer-bridge ⇄ trainer-worker) --------------------------------------------------

/** A dataset snapshot or adapter file in the artifact store (JetStream Object Store by default). */
export interface ObjectRef {
  bucket: string;
  key: string;
}

/** Job ids are idempotency keys: a redelivered job never yields a second result; a retry is a new job. */
export interface JobsTrainV1 {
  job_id: string;
  /** 'tiny' (built locally from a seed), a Hugging Face id or a local path. */
  base_model: string;
  dataset: ObjectRef & { sha256: string; records?: number };
  output?: { bucket?: string; prefix?: string };
  /** Overrides of the worker's defaults. */
  hyperparameters?: Partial<LoraHyperparameters & { epochs: number }>;
  seed?: number;
  attempt?: number;
  deadline?: string;
}

export interface TrainingProgressV1 {
  job_id: string;
  step: number;
  total_steps: number;
  loss: number | null;
  tokens_per_second: number;
  eta_seconds: number;
  elapsed_seconds?: number;
  resumed_from_step?: number;
  delivery?: number;
}

/** The hyperparameters a job may set (jobs.train) and a result reports (training.completed). */
export interface LoraHyperparameters {
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  learning_rate: number;
  max_steps: number;
  batch_size: number;
  max_length: number;
}

/** What the worker actually trained with. */
export interface TrainingHyperparameters extends LoraHyperparameters {
  epochs?: number | null;
  packing?: boolean;
  bf16?: boolean;
  gradient_checkpointing?: boolean;
}

/** At most one per job: its envelope id is a uuid v5 of the job id (Nats-Msg-Id dedup). */
export interface TrainingCompletedV1 {
  job_id: string;
  base_model: string;
  artifact: ObjectRef & {
    /** adapter_config.json beside the adapter_model.safetensors of `key` */
    config_key: string;
    /** sha256 of adapter_model.safetensors */
    sha256: string;
    size_bytes: number;
    format: 'peft-lora-safetensors';
  };
  metrics: {
    first_loss?: number;
    final_loss: number;
    mean_loss?: number;
    steps: number;
    examples: number;
    skipped_examples?: number;
    /** Examples whose prompt was cut from the left to fit max_length. */
    truncated_examples?: number;
    tokens: number;
    train_seconds: number;
    tokens_per_second: number;
    resumed_from_step?: number;
  };
  hyperparameters: TrainingHyperparameters;
  seed: number;
  dataset_sha256: string;
  device?: string;
  package_versions: Record<string, string>;
  /** Set when the adapter is an architecture study's best trial's (ADR 0025): its lineage. */
  study?: { name: string; best_trial: number; best_value: number; summary: StudySummary };
}

/** An architecture study as the worker summarises it (ADR 0025); the API serves it as is. */
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
 * One runner of an architecture cycle's Optuna study (ADR 0025). The worker answers with
 * training.completed (the best trial's adapter, with `study`) or training.failed.
 */
export interface JobsArchitectureV1 {
  job_id: string;
  base_model: string;
  dataset: ObjectRef & { sha256: string; records?: number };
  /** The gate's frozen suite: kept out of the validation split. */
  suite?: ObjectRef & { sha256: string };
  /** The normalisation the bridge decontaminated with (ADR 0016); the split compares at it too. */
  decontamination_level?: 'identifiers' | 'layout';
  output?: { bucket?: string; prefix?: string };
  study: { name: string; validation_fraction?: number };
  budget: { trials: number; worker_seconds: number };
  search_space?: {
    min_steps?: number;
    max_steps?: number;
    eval_every?: number;
    learning_rate?: [number, number];
    ranks?: number[];
    alpha_ratios?: number[];
    target_sets?: Array<'attention' | 'mlp' | 'all'>;
    dropout?: [number, number];
  };
  /** The model's current training configuration: the first trial. */
  baseline?: Partial<LoraHyperparameters>;
  /** The best configurations of earlier studies. */
  warm_start?: Array<Partial<LoraHyperparameters>>;
  /** Fixed for every trial. */
  hyperparameters?: Partial<LoraHyperparameters & { epochs: number }>;
  seed?: number;
  attempt?: number;
  deadline?: string;
}

export type TrainingPhase = 'validate' | 'download' | 'prepare' | 'train' | 'upload' | 'publish';

/** retryable=false: the job can never succeed (e.g. an invalid snapshot); it is not redelivered. */
export interface TrainingFailedV1 {
  job_id: string;
  reason: { code: string; message: string };
  retryable: boolean;
  phase?: TrainingPhase;
  delivery?: number;
}

export interface ModelTrainedV1 {
  cycle_id: string;
  model_version: string;
  base_model: string;
  job_id: string;
  snapshot: { id: string; sha256: string; train_records: number; eval_records: number };
  artifact: TrainingCompletedV1['artifact'];
  metrics: Record<string, unknown>;
  hyperparameters: Record<string, unknown>;
  seed: number;
  /** Set when the candidate is an architecture study's best trial (ADR 0025). */
  study?: { name: string; best_trial: number };
}

// --- evaluation (evaluator ⇄ trainer-worker) and deployment (deployer) --------------------------

export type EvaluationRole = 'candidate' | 'champion';
export type AdapterRef = Pick<TrainingCompletedV1['artifact'], 'bucket' | 'key' | 'config_key' | 'sha256'>;

/** One model (base + optional adapter) on one frozen suite; one job per role, same suite. */
export interface JobsEvaluateV1 {
  job_id: string;
  evaluation_id: string;
  role: EvaluationRole;
  /** version null + adapter null: the bare base model (the first cycle's champion). */
  model: { version: string | null; base_model: string; adapter: AdapterRef | null };
  suite: ObjectRef & { sha256: string; items: number };
  output?: { bucket?: string; key?: string };
  /** max_new_tokens: a fixed budget; without it the worker derives one per suite (capped). */
  generation?: { max_new_tokens?: number; max_new_tokens_cap?: number };
  /** The anchor suite the worker appends from its pinned package (items: an even subset; null = all). */
  anchor?: { suite: string; version: string; items: number | null };
  sandbox?: { cpu_seconds?: number; memory_mb?: number; wall_seconds?: number };
  seed?: number;
  attempt?: number;
  deadline?: string;
}

/** Aggregates of one model on a suite (definitions in evaluation.completed.v1.schema.json). */
export interface EvaluationMetrics {
  accuracy: number | null;
  exact_match: number | null;
  functional_pass_rate: number | null;
  perplexity: number | null;
  bleu: number | null;
  success_rate: number | null;
  items: number;
  in_domain_items: number;
  regression_items: number;
  functional_items: number;
  /** In-domain items without tests whose reference is longer than the generation budget. */
  unwinnable_items?: number;
}

export interface EvaluationCompletedV1 {
  job_id: string;
  evaluation_id: string;
  role: EvaluationRole;
  model_version: string | null;
  base_model: string;
  suite_sha256: string;
  metrics: EvaluationMetrics;
  results: ObjectRef & { sha256: string; items: number };
  duration_seconds?: number;
  device?: string;
  package_versions?: Record<string, string>;
}

export interface EvaluationFailedV1 {
  job_id: string;
  evaluation_id?: string;
  role?: EvaluationRole;
  reason: { code: string; message: string };
  retryable: boolean;
  phase?: 'validate' | 'download' | 'load' | 'evaluate' | 'upload' | 'publish';
  delivery?: number;
}

/** One line of the per-item results (artifacts/eval-result.v1.schema.json). */
export interface EvalItemResult {
  item_id: string;
  split: 'in_domain' | 'regression';
  exact: boolean;
  functional: boolean | null;
  correct: boolean;
  nll: number | null;
  tokens: number;
  bleu: number;
  output: string;
  /** No tests and a reference longer than the generation budget: this item can never be correct. */
  unwinnable?: boolean;
  sandbox?: { outcome: string; exit_code?: number | null; duration_seconds?: number; stderr_tail?: string };
}

export interface PairedTestResult {
  name: 'mcnemar_exact' | 'paired_bootstrap';
  required: boolean;
  significance: number;
  p_value: number | null;
  significant: boolean;
  candidate_only?: number;
  champion_only?: number;
  interval?: [number, number];
}

export interface GuardCheck {
  metric: string;
  champion: number | null;
  candidate: number | null;
  tolerance: number;
  higher_is_better?: boolean;
  ok: boolean;
}

/** The gate's outcome: `inconclusive` = the suite could not tell (ADR 0015); the champion stays. */
export type GateDecisionName = 'promote' | 'reject' | 'inconclusive';

/** What the suite could have detected (model.evaluated.v1 `power`). */
export interface GatePower {
  target_power: number;
  /** Smallest true accuracy gain the paired test detects with target_power; null = none. */
  mde: number | null;
  items: number;
  /** Observed share of in-domain items on which exactly one model is right. */
  discordance: number;
  /** About how many in-domain items would detect min_improvement with target_power. */
  needed_items: number | null;
  unwinnable_items: number;
}

export interface ModelEvaluatedV1 {
  cycle_id: string;
  evaluation_id: string;
  model_version: string;
  champion_version: string | null;
  base_model: string;
  decision: GateDecisionName;
  reason: string;
  primary_metric: string;
  candidate: EvaluationMetrics;
  champion: EvaluationMetrics;
  delta: number;
  min_improvement: number;
  test: PairedTestResult;
  guards: GuardCheck[];
  items: number;
  power?: GatePower;
  /** The suite the scores were measured on, e.g. in-domain.v2+regression.v1+humaneval-1.0.3. */
  suite_version?: string;
  /** The regression and anchor suites' non-inferiority check. */
  non_inferiority?: NonInferiorityCheck;
  /** Per-slice (topic) results of the in-domain items and the slice gate (ADR 0020). */
  slices?: SliceGateResult;
}

/** One topic slice of the in-domain suite: both models' accuracy on its items, paired (ADR 0020). */
export interface SliceResult {
  slice_id: string;
  /** The slice's top terms, e.g. "cursor, sql, execute". */
  label: string;
  items: number;
  candidate_accuracy: number;
  champion_accuracy: number;
  delta: number;
  candidate_only: number;
  champion_only: number;
  /** One-sided exact McNemar p that the champion is better on this slice; null = too small to test. */
  p_value: number | null;
  /** Holm-adjusted over the tested slices; null = too small to test. */
  adjusted_p: number | null;
  /** `too_small`: even every item going the champion's way could not reach p < alpha. */
  status: 'ok' | 'regressed' | 'too_small';
}

export interface SliceGateResult {
  /** false: reported, not gated (GENESIS_SLICE_GATE=off). */
  enabled: boolean;
  alpha: number;
  method: 'holm';
  /** The snapshot's clustering the slices come from; null = the snapshot has none. */
  clustering_version: string | null;
  /** Why there is no slicing, when there is none. */
  note?: string;
  slices: SliceResult[];
  /** In-domain items that belong to no slice (no embedding when the snapshot was sliced). */
  unsliced_items: number;
  tested: number;
  /** Slice ids whose Holm-adjusted p is below alpha. */
  regressed: string[];
}

export interface NonInferiorityCheck {
  split: 'regression';
  items: number;
  margin: number;
  significance: number;
  candidate_rate: number | null;
  champion_rate: number | null;
  difference: number;
  upper_bound: number;
  candidate_only: number;
  champion_only: number;
  ok: boolean;
}

export type DeploymentTargetName = 'registry' | 'ollama' | 'openai-lora';

export interface ModelDeployedV1 {
  cycle_id: string;
  model_version: string;
  previous_version: string | null;
  target: DeploymentTargetName;
  served_as?: string;
  deployment_id: string;
  improvement_score: number | null;
  alias: 'champion';
}

export interface ModelRejectedV1 {
  cycle_id: string;
  model_version: string;
  evaluation_id: string;
  champion_version: string | null;
  reason: string;
  /** Absent = rejected. `inconclusive`: not promoted because the suite could not tell (ADR 0015). */
  outcome?: 'rejected' | 'inconclusive';
}

export interface RollbackRequestedV1 {
  request_id: string;
  version?: string;
  reason: string;
  requested_by: string;
}

export interface ModelRolledBackV1 {
  request_id: string;
  from_version: string;
  to_version: string;
  reason: string;
  requested_by: string;
  target: DeploymentTargetName;
  deployment_id: string;
}

/** Rescan and forget (ADR 0017): the job id travels; the job row holds the rest. */
export type LearningRescanKind = 'rescan' | 'forget';

export interface LearningRescanRequestedV1 {
  rescan_id: string;
  kind: LearningRescanKind;
  /** forget: the learnings to forget (their duplicates go with them). */
  learning_ids?: string[];
  requested_by: string;
}

export interface LearningRescannedV1 {
  rescan_id: string;
  kind: LearningRescanKind;
  rule_set?: string;
  scanned: number;
  /** Learnings whose stored text changed (redacted, quarantined or forgotten): their snapshots follow. */
  changed: number;
}

/** The improvement engine's task lifecycle (ADR 0024): task.queued / started / completed / cancelled. */
export type TaskKindName = 'training' | 'architecture' | 'optimisation' | 'distillation';
export type TaskStatusName =
  'queued' | 'running' | 'deployed' | 'rejected' | 'inconclusive' | 'failed' | 'cancelled';

export interface TaskEventV1 {
  task_id: string;
  model_id: string;
  kind: TaskKindName;
  status: TaskStatusName;
  priority: number;
  priority_summary: string;
  requested_by: string;
  automatic: boolean;
  reason: string;
  cycle_id: string | null;
  result?: {
    performance_gain: number;
    measured_delta: number | null;
    primary_metric: string | null;
    metrics: Record<string, unknown> | null;
    execution_seconds: number;
    model_version: string | null;
    failure_reason: string | null;
  };
  at: string;
}

/** engine.iteration_requested: someone asked for a planning iteration now (the envelope names the default model). */
export interface EngineIterationRequestedV1 {
  requested_by: string;
  requested_at: string;
}

/** workers.heartbeat (core NATS, not stored; ADR 0023): a worker's capacity and memory. */
export interface WorkerHeartbeatV1 {
  worker_id: string;
  host: string;
  /** The job kinds it pulls: training, evaluation, ... */
  kinds: string[];
  slots_total: number;
  slots_busy: number;
  /** The larger of host RAM and GPU memory in use, 0..1. */
  memory_used_fraction: number;
  /** GPU memory in use (the fullest device), null without a GPU. */
  gpu_memory_used_fraction: number | null;
  sent_at: string;
}

// --- Task targets and constraints (ADR 0027) ---------------------------------------------------
// Appended as one block (declaration merging widens the two existing interfaces) so the generator
// of these types can take the same fields from the JSON Schemas when it is rerun.

/** One constraint in force for a candidate: the family's or its task's limit, the stricter winning. */
export interface GateConstraintCheck {
  constraint: 'latency_target_ms' | 'max_size_bytes';
  code: 'latency_constraint' | 'size_constraint';
  limit: number;
  source: 'family' | 'task' | 'family+task';
  /** The candidate's measured value; null: not measured, so not judged. */
  value: number | null;
  /** false: broken, the decision is reject; null: not judged. */
  ok: boolean | null;
}

export interface ModelEvaluatedV1 {
  /** The constraints the gate judged the candidate by (absent: none in force). */
  constraints?: GateConstraintCheck[];
}

// --- architecture trials as jobs (ADR 0025, amended) ----------------------------------------------

/**
 * study.trial.finished: one trial of an architecture study ran to its end: the answer to one
 * jobs.architecture job (a trial), and the study's progress on the bus. `artifact` / `trained` are
 * present when the trial was the best finished one when it completed (its adapter was stored).
 */
export interface StudyTrialFinishedV1 {
  job_id: string;
  study: string;
  worker_id: string;
  trial: {
    number: number;
    state: 'complete' | 'pruned';
    value: number | null;
    params: Record<string, unknown>;
    hyperparameters?: Record<string, unknown> | null;
    intermediate?: Record<string, number>;
    pruned_at_step?: number | null;
    duration_seconds?: number | null;
    worker_id?: string | null;
  };
  base_model: string;
  seed: number;
  dataset_sha256: string;
  package_versions: Record<string, string>;
  artifact?: TrainingCompletedV1['artifact'];
  trained?: {
    metrics: TrainingCompletedV1['metrics'];
    hyperparameters: TrainingCompletedV1['hyperparameters'];
    device?: string;
  };
  best: { number: number; value: number } | null;
  budget: {
    trials: number;
    worker_seconds: number;
    spent_trials: number;
    spent_worker_seconds: number;
    left_trials?: number;
    left_worker_seconds?: number;
  };
  summary: StudySummary;
}
