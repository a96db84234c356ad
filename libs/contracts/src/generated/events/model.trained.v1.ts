/* Generated from libs/contracts/schemas/events/model.trained.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * model.trained v1 — a candidate model version exists: a LoRA adapter trained on a snapshot (trainer-bridge)
 */
export interface ModelTrainedV1 {
  cycle_id: string;
  model_version: string;
  base_model: string;
  job_id: string;
  snapshot: {
    id: string;
    sha256: string;
    train_records: number;
    eval_records: number;
  };
  artifact: {
    bucket: string;
    key: string;
    config_key: string;
    sha256: string;
    size_bytes: number;
    format: string;
    [k: string]: unknown;
  };
  metrics: {
    [k: string]: unknown;
  };
  hyperparameters: {
    [k: string]: unknown;
  };
  seed: number;
  /**
   * Set when the candidate is an architecture study's best trial (docs/adr/0025-architecture-search.md).
   */
  study?: {
    name: string;
    best_trial: number;
  };
}
