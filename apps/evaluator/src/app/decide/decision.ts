import type {
  EvalItemResult,
  EvaluationMetrics,
  GateDecisionName,
  GatePower,
  GuardCheck,
  PairedTestResult,
  SliceGateResult,
} from '@genesis/contracts';
import type { GatePolicy, GuardMetric } from '../evaluator.config';
import { describeMetricSource } from './metric-source';
import { checkNonInferiority, describeNonInferiority, type NonInferiorityResult } from './non-inferiority';
import { mcnemarExact, pairedBootstrap } from './paired-test';
import { itemsNeeded, minimumDetectableEffect } from './power';
import { describeSlices, sliceResults, type ItemSlices } from './slices';

export const PRIMARY_METRIC = 'accuracy';

export interface GateInput {
  candidate: EvaluationMetrics;
  champion: EvaluationMetrics;
  /** Per-item results of both models on the same suite, matched by item_id. */
  pairs: { item_id: string; candidate: EvalItemResult; champion: EvalItemResult }[];
  /** The in-domain items' topic slices (ADR 0020); absent = no clustering for this evaluation. */
  slices?: ItemSlices;
}

export interface GateDecision {
  decision: GateDecisionName;
  reason: string;
  delta: number;
  test: PairedTestResult;
  guards: GuardCheck[];
  items: number;
  power: GatePower;
  /** The regression and anchor suites' non-inferiority check (ADR 0016). */
  non_inferiority: NonInferiorityResult;
  /** Per-slice results and the slice gate (ADR 0020). */
  slices: SliceGateResult;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
const pText = (p: number) => (p > 0 && p < 0.0001 ? p.toExponential(2) : String(Number(p.toPrecision(3))));
const count = (n: number) => n.toLocaleString('en-US');

/** Guards: rates and BLEU may drop by at most `tolerance` (absolute), perplexity rise by at most that fraction. */
function checkGuard(metric: GuardMetric, tolerance: number, g: GateInput): GuardCheck {
  const champion = g.champion[metric];
  const candidate = g.candidate[metric];
  const higherIsBetter = metric !== 'perplexity';
  let ok = true;
  if (champion !== null && candidate !== null) {
    ok = higherIsBetter ? champion - candidate <= tolerance + 1e-12 : candidate <= champion * (1 + tolerance);
  }
  return { metric, champion, candidate, tolerance, higher_is_better: higherIsBetter, ok };
}

function pairedTest(g: GateInput, policy: GatePolicy): PairedTestResult {
  const inDomain = g.pairs.filter((p) => p.candidate.split === 'in_domain');
  const candidateOnly = inDomain.filter((p) => p.candidate.correct && !p.champion.correct).length;
  const championOnly = inDomain.filter((p) => !p.candidate.correct && p.champion.correct).length;
  const common = {
    required: policy.requireSignificance,
    significance: policy.significance,
    candidate_only: candidateOnly,
    champion_only: championOnly,
  };
  if (policy.test === 'paired_bootstrap') {
    const diffs = inDomain.map((p) => Number(p.candidate.correct) - Number(p.champion.correct));
    const b = pairedBootstrap(diffs, policy.bootstrapSamples, policy.significance, policy.seed);
    return {
      name: 'paired_bootstrap',
      ...common,
      p_value: b.pValue,
      significant: inDomain.length > 0 && b.interval[0] > 0,
      interval: b.interval,
    };
  }
  const p = mcnemarExact(candidateOnly, championOnly);
  return { name: 'mcnemar_exact', ...common, p_value: p, significant: p < policy.significance };
}

/**
 * What the suite could have detected (power.ts): the minimum detectable effect at the configured
 * power, and about how many in-domain items (at the same discordance) would detect the minimum
 * improvement.
 */
function gatePower(inDomain: GateInput['pairs'], test: PairedTestResult, policy: GatePolicy): GatePower {
  const items = inDomain.length;
  const discordant = (test.candidate_only ?? 0) + (test.champion_only ?? 0);
  const question = {
    items,
    discordance: items > 0 ? discordant / items : 0,
    significance: policy.significance,
    power: policy.power,
    test: policy.test,
  };
  return {
    target_power: policy.power,
    mde: minimumDetectableEffect(question),
    items,
    discordance: Math.round(question.discordance * 1e6) / 1e6,
    needed_items: items > 0 ? itemsNeeded(policy.minImprovement, question) : null,
    unwinnable_items: inDomain.filter((p) => p.candidate.unwinnable === true).length,
  };
}

/**
 * "at 80% power 20 items detect +0.3134" and, for an inconclusive decision, why that is not
 * enough and how many more items it would take.
 */
function describePower(p: GatePower, minImprovement: number, inconclusive: boolean): string {
  const at = `at ${Math.round(p.target_power * 100)}% power`;
  const detects =
    p.mde === null
      ? `${at} ${p.items} items detect no gain`
      : `${at} ${p.items} items detect ${signed(p.mde)}`;
  if (!inconclusive || (p.mde !== null && p.mde <= minImprovement)) return detects;
  const more =
    p.needed_items === null
      ? 'no suite size would'
      : `about ${count(Math.max(1, p.needed_items - p.items))} more held-out items needed`;
  return `${detects}, not ${signed(minImprovement)}: ${more}`;
}

/** The same test the other way round: the champion is significantly better (conclusive). */
function significantlyWorse(t: PairedTestResult): boolean {
  if (t.name === 'paired_bootstrap') return (t.interval?.[1] ?? 0) < 0;
  return mcnemarExact(t.champion_only ?? 0, t.candidate_only ?? 0) < t.significance;
}

/** Why neither model's score says anything, or null when at least one model scored. */
function noScoreReason(inDomain: GateInput['pairs'], power: GatePower): string | null {
  if (inDomain.length === 0) return `no in-domain items to compare ${PRIMARY_METRIC} on`;
  if (inDomain.some((p) => p.candidate.correct || p.champion.correct)) return null;
  const unwinnable =
    power.unwinnable_items === inDomain.length
      ? `: every one is longer than the generation budget`
      : power.unwinnable_items > 0
        ? ` (${power.unwinnable_items} longer than the generation budget, never winnable)`
        : '';
  return `neither model got any of the ${inDomain.length} in-domain items right${unwinnable}`;
}

function describeTest(t: PairedTestResult): string {
  const counts = `${t.candidate_only} vs ${t.champion_only} discordant items`;
  const verdict = t.significant ? `< ${t.significance}` : `≥ ${t.significance}`;
  const note = t.required ? '' : ', not required';
  if (t.name === 'paired_bootstrap') {
    const [lo, hi] = t.interval ?? [0, 0];
    return `paired bootstrap p=${pText(t.p_value ?? 1)} ${verdict}, interval [${signed(lo)}, ${signed(hi)}] (${counts}${note})`;
  }
  return `McNemar exact p=${pText(t.p_value ?? 1)} ${verdict} (${counts}${note})`;
}

/**
 * The promotion gate (ADR 0009, ADR 0015). Promote iff the primary metric gains more than the
 * minimum AND (significance not required OR the paired test says the gain is real) AND no guard
 * regresses past its tolerance. A candidate not promoted is `inconclusive` rather than `reject`
 * when the suite could not have told: neither model scored on it, or the test was required, was
 * not significant, and its minimum detectable effect exceeds the minimum improvement (a failed
 * guard, a topic slice significantly worse after Holm's correction, or a champion significantly
 * better, is conclusive whatever the power). The reason names the metric, the test, the power, the
 * slices and every failed guard.
 */
export function decide(g: GateInput, policy: GatePolicy): GateDecision {
  const before = g.champion.accuracy ?? 0;
  const after = g.candidate.accuracy ?? 0;
  const delta = after - before;
  const test = pairedTest(g, policy);
  const guards = Object.entries(policy.guards).map(([metric, tol]) =>
    checkGuard(metric as GuardMetric, tol, g),
  );
  const inDomain = g.pairs.filter((p) => p.candidate.split === 'in_domain');
  const items = inDomain.length;
  const power = gatePower(inDomain, test, policy);
  const gain = items > 0 && delta > policy.minImprovement;
  const significantEnough = !policy.requireSignificance || test.significant;
  const failedGuards = guards.filter((c) => !c.ok);
  const nonInferiority = checkNonInferiority(
    g.pairs.filter((p) => p.candidate.split === 'regression'),
    { margin: policy.anchorMargin, significance: policy.significance },
  );
  const slices = sliceResults(
    inDomain,
    g.slices ?? { clusteringVersion: null, byItem: new Map(), note: 'no clustering for this evaluation' },
    policy.slices,
  );
  const sliceRegression = slices.enabled && slices.regressed.length > 0;
  // A candidate significantly worse on the regression and anchor suites, or on one topic slice of
  // the in-domain suite (ADR 0020), is a conclusive miss whatever its average.
  const conclusiveFailure = failedGuards.length > 0 || !nonInferiority.ok || sliceRegression;
  const promote = gain && significantEnough && !conclusiveFailure;
  const championBetter = policy.requireSignificance && significantlyWorse(test);
  const noScore = noScoreReason(inDomain, power);
  const underpowered =
    policy.requireSignificance &&
    !test.significant &&
    (power.mde === null || power.mde > policy.minImprovement);
  const decision: GateDecisionName = promote
    ? 'promote'
    : !conclusiveFailure && !championBetter && (noScore !== null || underpowered)
      ? 'inconclusive'
      : 'reject';

  const parts = [
    items === 0
      ? noScore!
      : `${PRIMARY_METRIC} ${fmt(before)} → ${fmt(after)} (${signed(delta)}${gain ? ` > ${policy.minImprovement}` : `, needs > ${policy.minImprovement}`})`,
    describeTest(test) + (championBetter ? ', the champion is significantly better' : ''),
    ...(items > 0 ? [describeMetricSource(inDomain)] : []),
    ...(items > 0 && noScore ? [noScore] : []),
    ...(nonInferiority.items > 0 ? [describeNonInferiority(nonInferiority)] : []),
    ...(items > 0 ? [describeSlices(slices)] : []),
    ...(items > 0 ? [describePower(power, policy.minImprovement, decision === 'inconclusive')] : []),
    failedGuards.length
      ? failedGuards
          .map(
            (c) =>
              `guard ${c.metric} ${fmt(c.champion)} → ${fmt(c.candidate)} past tolerance ${c.tolerance}${c.metric === 'perplexity' ? ' (relative)' : ''}`,
          )
          .join('; ')
      : 'guards ok',
  ];
  return {
    decision,
    reason: `${decision}: ${parts.join('; ')}`,
    delta,
    test,
    guards,
    items,
    power,
    non_inferiority: nonInferiority,
    slices,
  };
}
