/**
 * The gate's power (ADR 0015): how large a true accuracy gain the paired test would call
 * significant with the configured probability, on a suite of a given size.
 *
 * Model. Both paired tests look only at the discordant items: b (only the candidate right) and
 * c (only the champion right); δ = (b − c) / n is the accuracy gain. An item is discordant with
 * probability ψ, and a true gain δ means P(b-item) = (ψ + δ) / 2, P(c-item) = (ψ − δ) / 2. ψ is the
 * one nuisance parameter; the gate takes it from the evaluation itself — the observed discordant
 * share d / n, which is exactly what the exact McNemar test conditions on — and never below δ
 * (a gain of δ needs at least δ·n discordant items). Concordant items, including those no model
 * can win (a reference longer than the generation budget), count in n and lower ψ, as they should.
 *
 * Power at (n, ψ, δ) is summed exactly over d ~ Bin(n, ψ) and b | d ~ Bin(d, (1 + δ/ψ) / 2), with
 * the test's own rejection region for each d; above EXACT_LIMIT items a normal approximation is
 * used (its error there is well under a point of power).
 */
import type { PairedTestName } from '../evaluator.config';

export interface PowerQuestion {
  /** Paired in-domain items. */
  items: number;
  /** Share of items on which exactly one model is right (observed). */
  discordance: number;
  significance: number;
  /** Target probability of a significant result when the gain is real, e.g. 0.8. */
  power: number;
  test: PairedTestName;
}

/** Past this many items the normal approximation replaces the exact sum. */
export const EXACT_LIMIT = 5000;
/** The largest suite `itemsNeeded` will name. */
export const MAX_ITEMS = 10_000_000;

// --- memo: the answers depend only on the question, and a busy evaluator asks few distinct ones --

const answers = new Map<string, number | null>();

function memo(kind: string, q: PowerQuestion, effect: number, compute: () => number | null): number | null {
  const key = `${kind}|${q.items}|${q.discordance}|${q.significance}|${q.power}|${q.test}|${effect}`;
  if (answers.has(key)) return answers.get(key)!;
  if (answers.size >= 10_000) answers.clear();
  const value = compute();
  answers.set(key, value);
  return value;
}

// --- distributions ------------------------------------------------------------------------------

function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) out[i] = out[i - 1]! + Math.log(i);
  return out;
}

const logBinomialPmf = (lf: Float64Array, n: number, k: number, logP: number, logQ: number) =>
  lf[n]! - lf[k]! - lf[n - k]! + (k === 0 ? 0 : k * logP) + (k === n ? 0 : (n - k) * logQ);

/** P(X ≥ k), X ~ Bin(n, p); terms beyond ~12 sd of the mean are below double precision. */
function binomialUpperTail(lf: Float64Array, n: number, p: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n || p <= 0) return 0;
  if (p >= 1) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  const end = Math.min(n, Math.ceil(n * p + 12 * Math.sqrt(n * p * (1 - p)) + 12));
  let sum = 0;
  for (let b = k; b <= end; b++) sum += Math.exp(logBinomialPmf(lf, n, b, logP, logQ));
  return Math.min(1, sum);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Inverse standard normal CDF by bisection on normalCdf (precise to 1e-9; called rarely). */
export function normalQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 100 && hi - lo > 1e-9; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// --- rejection regions --------------------------------------------------------------------------

/**
 * Smallest b (of d discordant items) the test calls significant, or d + 1 if none.
 * McNemar: P(Bin(d, ½) ≥ b) < α, exactly as mcnemarExact. Paired bootstrap: its α-quantile of the
 * mean difference is > 0, taken here as the normal lower bound mean − z·sd/√n > 0 with the plug-in
 * sd of the per-item differences (the simulation in decision.sim.spec.ts checks the two agree).
 */
function rejectionStart(lf: Float64Array, n: number, d: number, q: PowerQuestion, zAlpha: number): number {
  if (d === 0) return 1;
  if (q.test === 'mcnemar_exact') {
    // Walk the tail down from where it is still negligible until it reaches α.
    let b = Math.min(d, Math.ceil(d / 2 + 7 * Math.sqrt(d) + 7));
    let tail = binomialUpperTail(lf, d, 0.5, b + 1);
    const log2 = d * Math.LN2;
    for (; b >= 0; b--) {
      const next = tail + Math.exp(lf[d]! - lf[b]! - lf[d - b]! - log2);
      if (next >= q.significance) return b + 1;
      tail = next;
    }
    return 0;
  }
  for (let b = Math.ceil(d / 2); b <= d; b++) {
    const mean = (2 * b - d) / n;
    const variance = d / n - mean * mean;
    if (mean > 0 && mean > zAlpha * Math.sqrt(Math.max(variance, 0) / n)) return b;
  }
  return d + 1;
}

// --- power --------------------------------------------------------------------------------------

/** Discordance under a gain δ: the observed share, but never below δ itself. */
const discordanceAt = (q: PowerQuestion, effect: number) => Math.min(1, Math.max(q.discordance, effect));

function normalPower(n: number, psi: number, effect: number, q: PowerQuestion): number {
  const zAlpha = normalQuantile(1 - q.significance);
  const sdAlt = Math.sqrt(Math.max(psi - effect * effect, 1e-12));
  return normalCdf((effect * Math.sqrt(n) - zAlpha * Math.sqrt(psi)) / sdAlt);
}

/** P(the test is significant) on `items` paired items when the true gain is `effect` (≥ 0). */
export function powerAt(effect: number, q: PowerQuestion, items = q.items): number {
  const n = Math.round(items);
  const psi = discordanceAt(q, Math.max(0, effect));
  if (n <= 0 || psi <= 0) return 0;
  if (n > EXACT_LIMIT) return normalPower(n, psi, effect, q);
  const lf = logFactorials(n);
  const zAlpha = normalQuantile(1 - q.significance);
  const towardCandidate = Math.min(1, (1 + effect / psi) / 2);
  const sd = Math.sqrt(n * psi * (1 - psi));
  const from = Math.max(0, Math.floor(n * psi - 12 * sd - 12));
  const to = Math.min(n, Math.ceil(n * psi + 12 * sd + 12));
  const logPsi = Math.log(psi);
  const logNotPsi = Math.log1p(-Math.min(psi, 1 - 1e-15));
  let power = 0;
  for (let d = from; d <= to; d++) {
    const weight = psi >= 1 ? (d === n ? 1 : 0) : Math.exp(logBinomialPmf(lf, n, d, logPsi, logNotPsi));
    if (weight < 1e-300) continue;
    power += weight * binomialUpperTail(lf, d, towardCandidate, rejectionStart(lf, n, d, q, zAlpha));
  }
  return Math.min(1, power);
}

/**
 * The minimum detectable effect: the smallest true accuracy gain whose power reaches q.power, to
 * 1e-4; null when not even a gain of 1 (every item going the candidate's way) reaches it.
 */
export function minimumDetectableEffect(q: PowerQuestion): number | null {
  return memo('mde', q, 0, () => searchEffect(q));
}

function searchEffect(q: PowerQuestion): number | null {
  if (q.items <= 0) return null;
  if (powerAt(1, q) < q.power) return null;
  let lo = 0;
  let hi = 1;
  while (hi - lo > 1e-4) {
    const mid = (lo + hi) / 2;
    if (powerAt(mid, q) >= q.power) hi = mid;
    else lo = mid;
  }
  return Math.round(hi * 1e4) / 1e4;
}

/**
 * About how many paired items (with the same discordance) the test needs to detect `effect` with
 * q.power; null when no suite up to MAX_ITEMS would. Exact power has a saw-tooth in n, so this is
 * the first size found by bisection, not a guarantee for every larger one.
 */
export function itemsNeeded(effect: number, q: PowerQuestion): number | null {
  return memo('needed', q, effect, () => searchItems(effect, q));
}

function searchItems(effect: number, q: PowerQuestion): number | null {
  if (!(effect > 0) || effect > 1) return null;
  const psi = discordanceAt(q, effect);
  const zAlpha = normalQuantile(1 - q.significance);
  const zBeta = normalQuantile(q.power);
  const approx =
    ((zAlpha * Math.sqrt(psi) + zBeta * Math.sqrt(Math.max(psi - effect * effect, 0))) / effect) ** 2;
  if (approx > MAX_ITEMS) return null;
  if (approx > EXACT_LIMIT) return Math.ceil(approx);
  let lo = 0;
  let hi = Math.max(1, Math.ceil(approx));
  while (powerAt(effect, q, hi) < q.power) {
    lo = hi;
    hi *= 2;
    if (hi > EXACT_LIMIT) return Math.ceil(approx);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (powerAt(effect, q, mid) >= q.power) hi = mid;
    else lo = mid;
  }
  return hi;
}
