/* Generated from libs/contracts/schemas/events/jobs.train.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * jobs.train v1 — one LoRA training job on the GENESIS_JOBS work queue (trainer-bridge → trainer-worker)
 *
 * The dataset snapshot is a JSONL object in the object store, one record per line (schemas/artifacts/dataset-record.v1.schema.json). job_id is the idempotency key: a redelivered job never yields a second result, and a retry after a failure is a new job with a new job_id.
 */
export interface JobsTrainV1 {
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
   * Where the adapter goes; defaults: the dataset's bucket, prefix adapters/<job_id>.
   */
  output?: {
    bucket?: string;
    prefix?: string;
  };
  /**
   * Overrides of the worker's defaults; anything not given keeps the default.
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
