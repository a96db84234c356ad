import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalItemResult, EvaluationMetrics } from '@genesis/contracts';
import type { GatePolicy } from '../evaluator.config';
import { decide } from './decision';
import { holmAdjust, sliceResults, testable, type ItemSlices } from './slices';

const policy: GatePolicy = {
  minImprovement: 0.01,
  significance: 0.05,
  power: 0.8,
  requireSignificance: true,
  test: 'mcnemar_exact',
  bootstrapSamples: 2000,
  guards: {},
  anchorMargin: 0.05,
  seed: 7,
  slices: { enabled: true, alpha: 0.05 },
};

function item(id: string, correct: boolean): EvalItemResult {
  return {
    item_id: id,
    split: 'in_domain',
    exact: correct,
    functional: null,
    correct,
    nll: 1,
    tokens: 1,
    bleu: 0,
    output: '',
  };
}

/**
 * A suite from per-slice correctness strings: { s1: ['candidate bits', 'champion bits'], ... }.
 * Item ids are `<slice>-<n>`; each slice's label is its id in words.
 */
function slicedSuite(bySlice: Record<string, [string, string]>) {
  const pairs: { item_id: string; candidate: EvalItemResult; champion: EvalItemResult }[] = [];
  const byItem = new Map<string, { slice_id: string; label: string }>();
  for (const [slice, [cand, champ]] of Object.entries(bySlice)) {
    [...cand].forEach((bit, i) => {
      const id = `${slice}-${i}`;
      pairs.push({ item_id: id, candidate: item(id, bit === '1'), champion: item(id, champ[i] === '1') });
      byItem.set(id, { slice_id: slice, label: `topic ${slice}` });
    });
  }
  const metrics = (role: 'candidate' | 'champion'): EvaluationMetrics => ({
    accuracy: pairs.filter((p) => p[role].correct).length / pairs.length,
    exact_match: null,
    functional_pass_rate: null,
    perplexity: null,
    bleu: null,
    success_rate: null,
    items: pairs.length,
    in_domain_items: pairs.length,
    regression_items: 0,
    functional_items: 0,
  });
  const slices: ItemSlices = { clusteringVersion: 'kmeans-test', byItem };
  return { pairs, candidate: metrics('candidate'), champion: metrics('champion'), slices };
}

const ones = (n: number) => '1'.repeat(n);
const zeros = (n: number) => '0'.repeat(n);

describe('Holm–Bonferroni', () => {
  it('matches the textbook step-down adjustment, in the input order', () => {
    // sorted 0.01, 0.02, 0.03, 0.04 with m = 4: 0.04, 0.06, 0.06 (monotone), 0.06
    const adjusted = holmAdjust([0.03, 0.01, 0.04, 0.02]);
    const expected = [0.06, 0.04, 0.06, 0.06];
    adjusted.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-12, `${a} vs ${expected[i]}`));
    assert.deepEqual(holmAdjust([0.5, 0.9]), [1, 1]);
    assert.deepEqual(holmAdjust([]), []);
    assert.deepEqual(holmAdjust([0.2]), [0.2]);
  });

  it('a slice too small to test is one where even every item lost could not reach alpha', () => {
    // ½⁴ = 0.0625 ≥ 0.05; ½⁵ = 0.03125 < 0.05
    assert.equal(testable(4, 0.05), false);
    assert.equal(testable(5, 0.05), true);
    assert.equal(testable(0, 0.05), false);
  });

  it('controls the family-wise error: with 8 noise-only slices the gate rejects in at most ~alpha of suites', () => {
    // Each slice: 20 items, every one discordant with a fair coin. Without correction, P(any of
    // 8 one-sided tests < 0.05) ≈ 1 − (1 − 0.021)^8 ≈ 16 %; with Holm it must stay ≤ 5 % (+ noise).
    let seed = 42;
    const random = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 4294967296;
    };
    let rejected = 0;
    let rawAny = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      const bySlice: Record<string, [string, string]> = {};
      for (let s = 1; s <= 8; s++) {
        let cand = '';
        let champ = '';
        for (let i = 0; i < 20; i++) {
          const candidateWins = random() < 0.5;
          cand += candidateWins ? '1' : '0';
          champ += candidateWins ? '0' : '1';
        }
        bySlice[`s${s}`] = [cand, champ];
      }
      const s = slicedSuite(bySlice);
      const result = sliceResults(s.pairs, s.slices, policy.slices);
      if (result.regressed.length) rejected++;
      if (result.slices.some((x) => x.p_value! < 0.05)) rawAny++;
    }
    process.stdout.write(
      `# 8 noise-only slices × ${runs} suites: any raw p < 0.05 in ${((100 * rawAny) / runs).toFixed(1)}%, ` +
        `Holm rejects ${((100 * rejected) / runs).toFixed(1)}%\n`,
    );
    assert.ok(rejected / runs <= 0.06, `Holm rejected ${rejected}/${runs}`);
    assert.ok(rawAny / runs > 0.1, 'the uncorrected family would have rejected far more often');
  });
});

describe('the slice gate', () => {
  it('rejects a candidate whose average improves when one slice regresses significantly, naming it', () => {
    // s1 and s2: candidate +15 each (20 items, 15 vs 0); s3: 12 items, champion 10 vs 0.
    const g = slicedSuite({
      s1: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s2: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s3: [zeros(10) + ones(2), ones(12)],
    });
    const d = decide(g, policy);
    assert.ok(g.candidate.accuracy! > g.champion.accuracy! + 0.1, 'the average improves');
    assert.equal(d.test.significant, true, 'and significantly so');
    assert.equal(d.decision, 'reject');
    assert.deepEqual(d.slices.regressed, ['s3']);
    const s3 = d.slices.slices.find((s) => s.slice_id === 's3')!;
    assert.equal(s3.items, 12);
    assert.equal(s3.champion_only, 10);
    // p = ½¹⁰, times 3 tested slices (the smallest p comes first)
    assert.ok(Math.abs(s3.adjusted_p! - 3 / 1024) < 1e-12, `adjusted p ${s3.adjusted_p}`);
    assert.match(
      d.reason,
      /^reject: accuracy .*slice_regression: slice s3 "topic s3" \(12 items\) 1\.0000 → 0\.1667 \(−0\.8333; 0 vs 10 discordant\), Holm-adjusted p=0\.00293 < 0\.05/,
    );
    process.stdout.write(`# ${d.reason}\n`);
  });

  it('does not reject for a slice that regresses by noise, and says so', () => {
    // s3 loses 3 vs 1 on 12 items: raw p = 5/16, far from significant after (or before) Holm.
    const g = slicedSuite({
      s1: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s2: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s3: ['100' + ones(6) + zeros(3), '011' + ones(7) + zeros(2)],
    });
    const d = decide(g, policy);
    const s3 = d.slices.slices.find((s) => s.slice_id === 's3')!;
    assert.ok(s3.delta < 0, 'the slice is worse');
    assert.equal(s3.status, 'ok');
    assert.equal(d.decision, 'promote');
    assert.match(d.reason, /slices: 3 of 3 tested, none significantly worse \(Holm, α=0\.05\)/);
  });

  it('reports slices too small to test and unsliced items instead of dropping them', () => {
    const g = slicedSuite({
      s1: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s2: [zeros(4), ones(4)],
    });
    g.pairs.push({ item_id: 'loose', candidate: item('loose', true), champion: item('loose', false) });
    const d = decide(g, policy);
    const s2 = d.slices.slices.find((s) => s.slice_id === 's2')!;
    assert.equal(s2.status, 'too_small');
    assert.equal(s2.p_value, null);
    assert.equal(d.slices.tested, 1);
    assert.equal(d.slices.unsliced_items, 1);
    assert.equal(d.decision, 'promote', 'a slice that cannot be tested cannot reject');
    assert.match(d.reason, /too small to test: s2 \(4 items, −1\.0000\); 1 in-domain items in no slice/);
  });

  it('with GENESIS_SLICE_GATE off reports the regression but does not decide on it', () => {
    const g = slicedSuite({
      s1: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s2: [ones(18) + zeros(2), ones(3) + zeros(17)],
      s3: [zeros(10) + ones(2), ones(12)],
    });
    const d = decide(g, { ...policy, slices: { enabled: false, alpha: 0.05 } });
    assert.equal(d.decision, 'promote');
    assert.deepEqual(d.slices.regressed, ['s3']);
    assert.match(d.reason, /slices regressed: not gated: slice s3/);
  });

  it('an evaluation without a clustering says so in the reason', () => {
    const g = slicedSuite({ s1: [ones(18) + zeros(2), ones(3) + zeros(17)] });
    const d = decide(
      { ...g, slices: { clusteringVersion: null, byItem: new Map(), note: 'embedder down' } },
      policy,
    );
    assert.equal(d.decision, 'promote');
    assert.match(d.reason, /slices: none \(embedder down\)/);
    assert.equal(d.slices.unsliced_items, 20);
  });
});
