/* Generated from libs/contracts/schemas/events/evaluation.completed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

export type Rate = number | null;

/**
 * evaluation.completed v1 — one model's results on a suite (trainer-worker → evaluator)
 *
 * Aggregates here; the per-item results (schemas/artifacts/eval-result.v1.schema.json, JSONL in suite order) are in the object store at results. At most one result (completed or failed) per job_id.
 */
export interface EvaluationCompletedV1 {
  job_id: string;
  evaluation_id: string;
  role: 'candidate' | 'champion';
  model_version: string | null;
  base_model: string;
  suite_sha256: string;
  metrics: Metrics;
  results: {
    bucket: string;
    key: string;
    sha256: string;
    items: number;
  };
  duration_seconds?: number;
  device?: string;
  package_versions?: {
    [k: string]: string;
  };
}
/**
 * accuracy (primary): in-domain items correct (tests pass when the item has tests, else exact match). exact_match: in-domain exact matches. functional_pass_rate: items with tests whose tests passed (null without such items). perplexity: exp(mean token NLL of the reference corrections), in-domain. bleu: sacrebleu corpus BLEU (0-100) of outputs vs references, in-domain. success_rate: regression items correct (null without regression items).
 */
export interface Metrics {
  accuracy: Rate;
  exact_match: Rate;
  functional_pass_rate: Rate;
  perplexity: number | null;
  bleu: number | null;
  success_rate: Rate;
  items: number;
  in_domain_items: number;
  regression_items: number;
  functional_items: number;
  /**
   * In-domain items without tests whose reference is longer than the generation budget: no model can get them right.
   */
  unwinnable_items?: number;
}
