/* Generated from libs/contracts/schemas/events/model.evaluated.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

export type Rate = number | null;

/**
 * model.evaluated v1 — the gate's decision on a candidate: both models' metrics, the paired test, the guards (evaluator)
 *
 * decision=promote iff the primary metric gains more than min_improvement AND (test.required=false OR test.significant) AND every guard is ok; otherwise inconclusive when the suite could not tell (neither model scored on it, or the required test was not significant and power.mde > min_improvement) and no guard failed nor was the champion significantly better, else reject. reason is one human line naming the metric, the test and the power.
 */
export interface ModelEvaluatedV1 {
  cycle_id: string;
  evaluation_id: string;
  model_version: string;
  /**
   * The version compared against; null = the bare base model (first cycle).
   */
  champion_version: string | null;
  base_model: string;
  /**
   * inconclusive: not promoted because the suite could not tell (neither model scored, or the required test was not significant and power.mde > min_improvement); the champion stays (ADR 0015).
   */
  decision: 'promote' | 'reject' | 'inconclusive';
  reason: string;
  primary_metric: string;
  candidate: Metrics;
  champion: Metrics;
  /**
   * candidate − champion on the primary metric (absolute).
   */
  delta: number;
  min_improvement: number;
  test: {
    name: 'mcnemar_exact' | 'paired_bootstrap';
    required: boolean;
    significance: number;
    p_value: number | null;
    significant: boolean;
    /**
     * Items only the candidate got right (McNemar b).
     */
    candidate_only?: number;
    /**
     * Items only the champion got right (McNemar c).
     */
    champion_only?: number;
    /**
     * Paired bootstrap confidence interval of the delta.
     *
     * @minItems 2
     * @maxItems 2
     */
    interval?: number[];
  };
  guards: {
    metric: string;
    champion: number | null;
    candidate: number | null;
    tolerance: number;
    higher_is_better?: boolean;
    ok: boolean;
  }[];
  /**
   * Paired items the primary metric was computed on.
   */
  items: number;
  /**
   * The suite the scores were measured on: frozen in-domain version + regression set + anchor suite (and its subset), e.g. in-domain.v2+regression.v1+humaneval-1.0.3@8. Scores with the same suite_version are comparable (ADR 0016).
   */
  suite_version?: string;
  /**
   * The constraints in force for the candidate (ADR 0027): the family's and its task's, the stricter winning. A constraint with ok=false made the decision reject; its code (latency_constraint, size_constraint) starts the reason. ok=null: the value was not measured, so not judged.
   *
   * @maxItems 16
   */
  constraints?: {
    constraint: 'latency_target_ms' | 'max_size_bytes';
    code: 'latency_constraint' | 'size_constraint';
    limit: number;
    source: 'family' | 'task' | 'family+task';
    value: number | null;
    ok: boolean | null;
  }[];
  /**
   * Per-slice results (ADR 0020): the in-domain items grouped by the topic slice of the snapshot's clustering, both models' accuracy on each, a one-sided exact McNemar test per slice that the champion is better, Holm-adjusted over the slices large enough to test. When enabled, a slice with adjusted_p < alpha makes the decision reject (the reason names it).
   */
  slices?: {
    enabled: boolean;
    alpha: number;
    method: 'holm';
    clustering_version: string | null;
    note?: string;
    unsliced_items: number;
    tested: number;
    regressed: string[];
    slices: {
      slice_id: string;
      label: string;
      items: number;
      candidate_accuracy: number;
      champion_accuracy: number;
      delta: number;
      candidate_only: number;
      champion_only: number;
      p_value: number | null;
      adjusted_p: number | null;
      status: 'ok' | 'regressed' | 'too_small';
    }[];
  };
  /**
   * The regression and anchor suites' non-inferiority test: the candidate fails iff the one-sided (1 - significance) Agresti-Min upper bound of the mean per-item difference (candidate - champion) lies below -margin.
   */
  non_inferiority?: {
    split: 'regression';
    items: number;
    margin: number;
    significance: number;
    candidate_rate?: Rate;
    champion_rate?: Rate;
    difference: number;
    upper_bound: number;
    candidate_only: number;
    champion_only: number;
    ok: boolean;
  };
  /**
   * What the suite could have detected (ADR 0015). Discordance model: a true gain d makes an in-domain item go the candidate's way with probability (psi + d)/2 and the champion's with (psi - d)/2, psi = the observed discordant share, never below d.
   */
  power?: {
    /**
     * GENESIS_GATE_POWER.
     */
    target_power: number;
    /**
     * Minimum detectable effect: the smallest true accuracy gain (absolute) the paired test calls significant with probability target_power; null when no gain would.
     */
    mde: number | null;
    /**
     * In-domain items.
     */
    items: number;
    /**
     * Share of in-domain items on which exactly one model was right.
     */
    discordance: number;
    /**
     * About how many in-domain items (at the same discordance) would detect min_improvement with target_power; null when none would (or no items).
     */
    needed_items: number | null;
    /**
     * In-domain items no model can get right (reference longer than the generation budget).
     */
    unwinnable_items: number;
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
