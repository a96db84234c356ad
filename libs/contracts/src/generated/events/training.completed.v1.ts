/* Generated from libs/contracts/schemas/events/training.completed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * training.completed v1 — the adapter of a training job is in the object store (trainer-worker)
 *
 * At most one per job_id: its envelope id is derived from the job id (uuid v5), so a republish is a duplicate by Nats-Msg-Id and by event id. An architecture job (jobs.architecture) answers with it too: the adapter is its study's best trial's, and `study` says which (docs/adr/0025-architecture-search.md).
 */
export interface TrainingCompletedV1 {
  job_id: string;
  base_model: string;
  artifact: {
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
  seed: number;
  dataset_sha256: string;
  device?: string;
  package_versions: {
    [k: string]: string;
  };
  /**
   * Present when the adapter comes from an architecture study: its lineage and summary.
   */
  study?: {
    name: string;
    best_trial: number;
    /**
     * The best trial's validation loss.
     */
    best_value: number;
    /**
     * Trials (params, values, states, intermediate validation losses), counts by state, budget spent, best, parameter importance.
     */
    summary: {
      [k: string]: unknown;
    };
  };
}
