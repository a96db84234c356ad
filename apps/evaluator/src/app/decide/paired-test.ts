/**
 * Paired significance tests on per-item correctness (NOTES "Promotion statistics": the plain
 * "+1 point" rule on ~100–164 items promotes a model with no real gain a quarter of the time).
 * Both are one-sided: the question is only whether the candidate is better.
 */

/** log C(n, k) for k = 0..n, by the multiplicative recurrence (exact enough for n in the millions). */
function logBinomials(n: number): number[] {
  const out = [0];
  for (let k = 1; k <= n; k++) out.push(out[k - 1]! + Math.log(n - k + 1) - Math.log(k));
  return out;
}

/**
 * Exact McNemar test: among the n = b + c discordant items, b went the candidate's way. Under
 * "no difference" b ~ Binomial(n, ½); p = P(X ≥ b). No discordant items → p = 1.
 */
export function mcnemarExact(candidateOnly: number, championOnly: number): number {
  const n = candidateOnly + championOnly;
  if (n === 0) return 1;
  const logC = logBinomials(n);
  const terms = logC.slice(candidateOnly).map((l) => l - n * Math.LN2);
  const max = Math.max(...terms);
  const p = Math.exp(max) * terms.reduce((sum, t) => sum + Math.exp(t - max), 0);
  return Math.min(1, p);
}

/** Small, seedable PRNG (mulberry32): the same suite and seed give the same interval. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapResult {
  /** Share of resampled mean differences ≤ 0: the one-sided bootstrap p-value. */
  pValue: number;
  /** [α-quantile, (1−α)-quantile] of the mean difference; the lower end is the one-sided bound. */
  interval: [number, number];
}

/** Paired bootstrap of the mean per-item difference (candidate − champion). */
export function pairedBootstrap(
  differences: readonly number[],
  samples: number,
  alpha: number,
  seed: number,
): BootstrapResult {
  const n = differences.length;
  if (n === 0) return { pValue: 1, interval: [0, 0] };
  const random = mulberry32(seed);
  const means = new Float64Array(samples);
  let notBetter = 0;
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += differences[Math.floor(random() * n)]!;
    means[s] = sum / n;
    if (means[s]! <= 0) notBetter++;
  }
  means.sort();
  const at = (q: number) => means[Math.min(samples - 1, Math.max(0, Math.floor(q * samples)))]!;
  return { pValue: notBetter / samples, interval: [at(alpha), at(1 - alpha)] };
}
