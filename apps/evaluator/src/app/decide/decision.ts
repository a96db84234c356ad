import type { EvalItemResult, EvaluationMetrics, GuardCheck, PairedTestResult } from '@genesis/contracts';
import type { GatePolicy, GuardMetric } from '../evaluator.config';
import { describeMetricSource } from './metric-source';
import { checkNonInferiority, describeNonInferiority, type NonInferiorityResult } from './non-inferiority';
import { mcnemarExact, pairedBootstrap } from './paired-test';

export const PRIMARY_METRIC = 'accuracy';

export interface GateInput {
  candidate: EvaluationMetrics;
  champion: EvaluationMetrics;
  /** Per-item results of both models on the same suite, matched by item_id. */
  pairs: { item_id: string; candidate: EvalItemResult; champion: EvalItemResult }[];
}

export interface GateDecision {
  decision: 'promote' | 'reject';
  reason: string;
  delta: number;
  test: PairedTestResult;
  guards: GuardCheck[];
  items: number;
  /** The regression and anchor suites' non-inferiority check (ADR 0016). */
  non_inferiority: NonInferiorityResult;
}

const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
const pText = (p: number) => (p > 0 && p < 0.0001 ? p.toExponential(2) : String(Number(p.toPrecision(3))));

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
 * The promotion gate (ARCHITECTURE §2): promote iff the primary metric gains more than the
 * minimum AND (significance not required OR the paired test says the gain is real) AND no guard
 * regresses past its tolerance. The reason names the metric, the test and every failed guard.
 */
export function decide(g: GateInput, policy: GatePolicy): GateDecision {
  const before = g.champion.accuracy ?? 0;
  const after = g.candidate.accuracy ?? 0;
  const delta = after - before;
  const test = pairedTest(g, policy);
  const guards = Object.entries(policy.guards).map(([metric, tol]) =>
    checkGuard(metric as GuardMetric, tol, g),
  );
  const items = g.pairs.filter((p) => p.candidate.split === 'in_domain').length;
  const gain = items > 0 && delta > policy.minImprovement;
  const significantEnough = !policy.requireSignificance || test.significant;
  const failedGuards = guards.filter((c) => !c.ok);
  const nonInferiority = checkNonInferiority(
    g.pairs.filter((p) => p.candidate.split === 'regression'),
    { margin: policy.anchorMargin, significance: policy.significance },
  );
  const promote = gain && significantEnough && failedGuards.length === 0 && nonInferiority.ok;

  const parts = [
    items === 0
      ? `no in-domain items to compare ${PRIMARY_METRIC} on`
      : `${PRIMARY_METRIC} ${fmt(before)} → ${fmt(after)} (${signed(delta)}${gain ? ` > ${policy.minImprovement}` : `, needs > ${policy.minImprovement}`})`,
    describeTest(test),
    failedGuards.length
      ? failedGuards
          .map(
            (c) =>
              `guard ${c.metric} ${fmt(c.champion)} → ${fmt(c.candidate)} past tolerance ${c.tolerance}${c.metric === 'perplexity' ? ' (relative)' : ''}`,
          )
          .join('; ')
      : 'guards ok',
    describeNonInferiority(nonInferiority),
    describeMetricSource(g.pairs.filter((p) => p.candidate.split === 'in_domain')),
  ];
  return {
    decision: promote ? 'promote' : 'reject',
    reason: `${promote ? 'promote' : 'reject'}: ${parts.join('; ')}`,
    delta,
    test,
    guards,
    items,
    non_inferiority: nonInferiority,
  };
}
