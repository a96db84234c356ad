import type { EvalItemResult, NonInferiorityCheck } from '@genesis/contracts';

/**
 * The guard on the regression and anchor suites (ADR 0016): a candidate may not be *significantly*
 * worse than the champion by more than a margin. It replaces the fixed tolerance on
 * `success_rate`, which on 20 items failed a candidate that got two more items wrong (0.10 > 0.05)
 * however noisy that was, yet on 164 items let a real 4-point loss through.
 *
 * Test: on the paired per-item results, d = candidate − champion (per item +1, 0 or −1). The
 * candidate fails iff the one-sided (1 − α) upper confidence bound of the mean difference lies
 * below −margin: the data say it is worse by more than the margin. The bound is the Agresti–Min
 * adjusted Wald bound for paired proportions (half an item added to each discordant cell), which
 * keeps its coverage on small suites; with no discordant item it is above 0, so two models that
 * both score 0 (the tiny model on HumanEval) never fail it.
 */
export interface NonInferiorityPolicy {
  /** Largest loss (absolute share of items) tolerated before the guard may fail. */
  margin: number;
  /** One-sided α of the test. */
  significance: number;
}

/** model.evaluated's `non_inferiority` (libs/contracts). */
export type NonInferiorityResult = NonInferiorityCheck;

type Pair = { candidate: Pick<EvalItemResult, 'correct'>; champion: Pick<EvalItemResult, 'correct'> };

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`quantile of ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export function checkNonInferiority(
  pairs: readonly Pair[],
  policy: NonInferiorityPolicy,
): NonInferiorityResult {
  const n = pairs.length;
  const b = pairs.filter((p) => p.candidate.correct && !p.champion.correct).length;
  const c = pairs.filter((p) => !p.candidate.correct && p.champion.correct).length;
  const rate = (role: 'candidate' | 'champion') =>
    n ? pairs.filter((p) => p[role].correct).length / n : null;
  const difference = n ? (b - c) / n : 0;
  let upper = Infinity;
  if (n > 0) {
    // Agresti–Min: add ½ to each discordant cell (and so 2 to n).
    const bb = b + 0.5;
    const cc = c + 0.5;
    const nn = n + 2;
    const adjusted = (bb - cc) / nn;
    const se = Math.sqrt(bb + cc - (bb - cc) ** 2 / nn) / nn;
    upper = Math.min(1, adjusted + normalQuantile(1 - policy.significance) * se);
  }
  return {
    split: 'regression',
    items: n,
    margin: policy.margin,
    significance: policy.significance,
    candidate_rate: rate('candidate'),
    champion_rate: rate('champion'),
    difference,
    upper_bound: Number.isFinite(upper) ? upper : 1,
    candidate_only: b,
    champion_only: c,
    ok: n === 0 || upper >= -policy.margin,
  };
}

/** The reason's clause on the regression and anchor suites. */
export function describeNonInferiority(r: NonInferiorityResult): string {
  if (r.items === 0) return 'no regression items';
  const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
  const verdict = r.ok ? 'not significantly worse than' : 'significantly worse than';
  return (
    `regression ${r.champion_rate!.toFixed(4)} → ${r.candidate_rate!.toFixed(4)} on ${r.items} items ` +
    `(${r.candidate_only} vs ${r.champion_only} discordant): ${verdict} the champion by more than ` +
    `${r.margin} (upper bound ${pts(r.upper_bound)}, α=${r.significance})`
  );
}
