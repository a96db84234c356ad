/* Generated from libs/contracts/schemas/events/jobs.architecture.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * jobs.architecture v1 — one trial of an architecture cycle's study on the GENESIS_JOBS work queue (trainer-bridge → trainer-worker)
 *
 * One trial of an architecture cycle's study on the GENESIS_JOBS work queue. The worker joins (or creates) the Optuna study `study.name` in the shared study storage (enqueuing `baseline` and `warm_start` once), asks for one trial, trains it with pruning, tells it, and answers with study.trial.finished (or training.failed) (docs/adr/0025-architecture-search.md). The trainer-bridge queues the trials and owns the budget; `budget` here is for the summary's spent/left. Trials validate on a split of the training snapshot; records matching an item of `suite` (the gate's frozen suite) are in neither part. job_id is the idempotency key: the trial is tagged with it, so a redelivered job answers with its finished trial, or re-runs one its dead worker left running.
 */
export interface JobsArchitectureV1 {
  job_id: string;
  /**
   * 'tiny' (built locally from the seed), a Hugging Face id or a local path.
   */
  base_model: string;
  dataset: {
    bucket: string;
    key: string;
    sha256: string;
    records?: number;
  };
  /**
   * The gate's frozen in-domain suite of this cycle (JSONL eval items); kept out of the validation split.
   */
  suite?: {
    bucket: string;
    key: string;
    sha256: string;
  };
  /**
   * How far text is normalised before comparing a record with a suite item: the bridge's own level (GENESIS_DECONTAMINATION_LEVEL, ADR 0016). Default identifiers.
   */
  decontamination_level?: 'identifiers' | 'layout';
  /**
   * Where the adapter goes; defaults: the dataset's bucket, prefix adapters/<job_id>.
   */
  output?: {
    bucket?: string;
    prefix?: string;
  };
  study: {
    /**
     * Optuna study name: one per architecture cycle.
     */
    name: string;
    validation_fraction?: number;
  };
  /**
   * The study's budget, enforced by the trainer-bridge (which queues no trial past it); the worker reports what is spent and left against it.
   */
  budget: {
    trials: number;
    worker_seconds: number;
  };
  search_space?: {
    min_steps?: number;
    max_steps?: number;
    eval_every?: number;
    /**
     * @minItems 2
     * @maxItems 2
     */
    learning_rate?: number[];
    /**
     * @minItems 1
     * @maxItems 16
     */
    ranks?: number[];
    /**
     * lora_alpha as multiples of the rank to choose from (default 0.5, 1, 2, 4).
     *
     * @minItems 1
     * @maxItems 16
     */
    alpha_ratios?: number[];
    /**
     * Named target-module sets to choose from (default all three).
     *
     * @minItems 1
     * @maxItems 3
     */
    target_sets?: ('attention' | 'mlp' | 'all')[];
    /**
     * The LoRA dropout range (default 0-0.1).
     *
     * @minItems 2
     * @maxItems 2
     */
    dropout?: number[];
  };
  /**
   * The model's current training configuration: enqueued as the study's first trial.
   */
  baseline?: {
    lora_r?: number;
    lora_alpha?: number;
    lora_dropout?: number;
    /**
     * @minItems 1
     */
    target_modules?: string[];
    learning_rate?: number;
    max_steps?: number;
    epochs?: number;
    batch_size?: number;
    max_length?: number;
  };
  /**
   * Best configurations of the model's previous studies: enqueued next.
   *
   * @maxItems 10
   */
  warm_start?: {
    lora_r?: number;
    lora_alpha?: number;
    lora_dropout?: number;
    /**
     * @minItems 1
     */
    target_modules?: string[];
    learning_rate?: number;
    max_steps?: number;
    epochs?: number;
    batch_size?: number;
    max_length?: number;
  }[];
  /**
   * Fixed for every trial (e.g. batch_size, max_length); the study varies the LoRA configuration, learning rate and steps.
   */
  hyperparameters?: {
    lora_r?: number;
    lora_alpha?: number;
    lora_dropout?: number;
    /**
     * @minItems 1
     */
    target_modules?: string[];
    learning_rate?: number;
    max_steps?: number;
    epochs?: number;
    batch_size?: number;
    max_length?: number;
  };
  seed?: number;
  /**
   * The bridge's attempt number for this cycle.
   */
  attempt?: number;
  deadline?: string;
}
