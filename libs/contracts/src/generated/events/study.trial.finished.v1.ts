/* Generated from libs/contracts/schemas/events/study.trial.finished.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * study.trial.finished v1 — one trial of an architecture study ran to its end (trainer-worker → trainer-bridge, on GENESIS_EVENTS)
 *
 * The answer to one jobs.architecture job (one trial, ADR 0025): the trial's state (complete or pruned), validation loss, parameters, run time and worker; the study's best so far and its budget spent and left as the shared Optuna storage holds them now; the study's summary (every trial, counts, importance), which the bridge keeps on the study row. `artifact` and `trained` are present when the trial was the best finished one when it completed (its adapter was stored). job_id is the idempotency key: a redelivered job answers with the same trial.
 */
export interface StudyTrialFinishedV1 {
  job_id: string;
  study: string;
  worker_id: string;
  trial: {
    number: number;
    state: 'complete' | 'pruned';
    /**
     * Validation loss (a pruned trial's: at the step it was stopped).
     */
    value: number | null;
    params: {
      [k: string]: unknown;
    };
    hyperparameters?: {
      [k: string]: unknown;
    } | null;
    intermediate?: {
      [k: string]: number;
    };
    pruned_at_step?: number | null;
    duration_seconds?: number | null;
    worker_id?: string | null;
  };
  base_model: string;
  seed: number;
  dataset_sha256: string;
  package_versions: {
    [k: string]: string;
  };
  artifact?: {
    bucket: string;
    /**
     * adapter_model.safetensors
     */
    key: string;
    /**
     * adapter_config.json
     */
    config_key: string;
    /**
     * Of the adapter_model.safetensors file.
     */
    sha256: string;
    size_bytes: number;
    format: 'peft-lora-safetensors';
  };
  trained?: {
    metrics: {
      first_loss?: number;
      final_loss: number;
      mean_loss?: number;
      steps: number;
      examples: number;
      skipped_examples?: number;
      /**
       * Examples whose prompt was cut from the left to fit max_length (they train on a partial prompt).
       */
      truncated_examples?: number;
      tokens: number;
      train_seconds: number;
      tokens_per_second: number;
      resumed_from_step?: number;
    };
    hyperparameters: {
      lora_r: number;
      lora_alpha: number;
      lora_dropout: number;
      target_modules: string[];
      learning_rate: number;
      max_steps: number;
      epochs?: number | null;
      batch_size: number;
      max_length: number;
      packing?: boolean;
      bf16?: boolean;
      gradient_checkpointing?: boolean;
    };
    device?: string;
  };
  best: {
    number: number;
    value: number;
  } | null;
  budget: {
    trials: number;
    worker_seconds: number;
    spent_trials: number;
    spent_worker_seconds: number;
    left_trials?: number;
    left_worker_seconds?: number;
  };
  /**
   * The study as the storage holds it now: trials, counts by state, budget, best, importance, validation split.
   */
  summary: {
    [k: string]: unknown;
  };
}
