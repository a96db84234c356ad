import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalItemResult, EvaluationMetrics } from '@genesis/contracts';
import type { GatePolicy } from '../evaluator.config';
import { decide, type GateInput } from './decision';

/**
 * The gate against known truth (ADR 0015): simulated suites whose per-item results are drawn with
 * a chosen true gain, run through the real decide(). Two promises are checked: with no real gain
 * at most 5% of candidates are promoted, and at a true gain equal to the minimum detectable effect
 * the gate reports, the share promoted is the configured power, within a few points.
 */

const POLICY: GatePolicy = {
  minImprovement: 0.01,
  significance: 0.05,
  power: 0.8,
  requireSignificance: true,
  test: 'mcnemar_exact',
  bootstrapSamples: 1000,
  guards: {},
  anchorMargin: 0.05,
  seed: 11,
  slices: { enabled: true, alpha: 0.05 },
};

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

const result = (item_id: string, correct: boolean): EvalItemResult => ({
  item_id,
  split: 'in_domain',
  exact: correct,
  functional: null,
  correct,
  nll: 1,
  tokens: 1,
  bleu: correct ? 100 : 0,
  output: '',
});

function metrics(results: EvalItemResult[]): EvaluationMetrics {
  const right = results.filter((r) => r.correct).length;
  return {
    accuracy: right / results.length,
    exact_match: right / results.length,
    functional_pass_rate: null,
    perplexity: null,
    bleu: null,
    success_rate: null,
    items: results.length,
    in_domain_items: results.length,
    regression_items: 0,
    functional_items: 0,
  };
}

/**
 * One suite of n items with true gain `effect` and discordance ψ (at least δ): an item is
 * candidate-only with probability (ψ + δ)/2, champion-only with (ψ − δ)/2, else both right or
 * both wrong (½ each).
 */
function drawSuite(n: number, psi: number, effect: number, random: () => number): GateInput {
  const discordance = Math.max(psi, effect);
  const candidateOnly = (discordance + effect) / 2;
  const pairs = [...Array(n)].map((_, i) => {
    const u = random();
    const [cand, champ] =
      u < candidateOnly
        ? [true, false]
        : u < discordance
          ? [false, true]
          : random() < 0.5
            ? [true, true]
            : [false, false];
    return { item_id: `i${i}`, candidate: result(`i${i}`, cand), champion: result(`i${i}`, champ) };
  });
  return {
    pairs,
    candidate: metrics(pairs.map((p) => p.candidate)),
    champion: metrics(pairs.map((p) => p.champion)),
  };
}

/** The MDE the gate reports on a suite showing exactly the expected discordance. */
function reportedMde(n: number, discordance: number, policy: GatePolicy): number {
  const d = Math.round(n * discordance);
  const pairs = [...Array(n)].map((_, i) => ({
    item_id: `i${i}`,
    candidate: result(`i${i}`, i < d && i % 2 === 0),
    champion: result(`i${i}`, i < d && i % 2 === 1),
  }));
  const g = {
    pairs,
    candidate: metrics(pairs.map((p) => p.candidate)),
    champion: metrics(pairs.map((p) => p.champion)),
  };
  return decide(g, policy).power.mde!;
}

function promotionRate(
  n: number,
  discordance: number,
  effect: number,
  gates: number,
  policy: GatePolicy,
  seed: number,
) {
  const random = mulberry32(seed);
  let promoted = 0;
  let inconclusive = 0;
  let promotedGain = 0;
  for (let i = 0; i < gates; i++) {
    const d = decide(drawSuite(n, discordance, effect, random), { ...policy, seed: policy.seed + i });
    if (d.decision === 'promote') {
      promoted++;
      promotedGain += d.delta;
    }
    if (d.decision === 'inconclusive') inconclusive++;
  }
  return {
    promoted: promoted / gates,
    inconclusive: inconclusive / gates,
    /** The winner's curse: the measured gain of the promoted ones, on average. */
    meanPromotedGain: promoted ? promotedGain / promoted : 0,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

describe('the gate in simulation (known truth, the real decide())', () => {
  const cases = [
    { test: 'mcnemar_exact', n: 100, discordance: 0.3, gates: 2000 },
    { test: 'mcnemar_exact', n: 400, discordance: 0.15, gates: 2000 },
    { test: 'mcnemar_exact', n: 30, discordance: 0.1, gates: 2000 },
    { test: 'paired_bootstrap', n: 100, discordance: 0.3, gates: 1000 },
  ] as const;

  for (const c of cases) {
    it(`${c.test}, ${c.n} items, discordance ${c.discordance}: ≤ 5% false promotions, and the reported MDE has its power`, () => {
      const policy: GatePolicy = { ...POLICY, test: c.test };
      const none = promotionRate(c.n, c.discordance, 0, c.gates, policy, 1);
      const mde = reportedMde(c.n, c.discordance, policy);
      const atMde = promotionRate(c.n, c.discordance, mde, c.gates, policy, 2);
      console.log(
        `# ${c.test} n=${c.n} ψ=${c.discordance}: no gain → ${pct(none.promoted)} promoted ` +
          `(${pct(none.inconclusive)} inconclusive) of ${c.gates}; reported MDE +${mde.toFixed(4)} ` +
          `at ${pct(policy.power)} power → ${pct(atMde.promoted)} promoted at that true gain, ` +
          `whose measured gain averages +${atMde.meanPromotedGain.toFixed(4)} (winner's curse)`,
      );
      assert.ok(none.promoted <= 0.05, `false promotions ${pct(none.promoted)}`);
      assert.ok(
        Math.abs(atMde.promoted - policy.power) <= 0.05,
        `promoted ${pct(atMde.promoted)} at the reported MDE, configured power ${pct(policy.power)}`,
      );
    });
  }

  it('with no real gain a large enough suite says reject, a small one inconclusive', () => {
    const policy: GatePolicy = { ...POLICY, minImprovement: 0.15 };
    const big = promotionRate(400, 0.15, 0, 500, policy, 3);
    const small = promotionRate(30, 0.3, 0, 500, policy, 4);
    console.log(
      `# min improvement 0.15, no gain: 400 items → ${pct(big.inconclusive)} inconclusive; ` +
        `30 items → ${pct(small.inconclusive)} inconclusive`,
    );
    assert.ok(big.inconclusive < 0.05 && small.inconclusive > 0.9);
  });
});
