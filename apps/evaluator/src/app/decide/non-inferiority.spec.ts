import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalItemResult, EvaluationMetrics } from '@genesis/contracts';
import type { GatePolicy } from '../evaluator.config';
import { decide } from './decision';
import { describeMetricSource } from './metric-source';
import { checkNonInferiority, normalQuantile } from './non-inferiority';

const policy = { margin: 0.05, significance: 0.05 };
const pairsOf = (candidate: boolean[], champion: boolean[]) =>
  candidate.map((c, i) => ({ candidate: { correct: c }, champion: { correct: champion[i]! } }));
const ones = (n: number, k: number) => Array.from({ length: n }, (_, i) => i < k);

/** A seeded PRNG (mulberry32), so the simulation gives the same numbers every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('non-inferiority on the regression and anchor suites', () => {
  it('uses the right normal quantiles', () => {
    assert.ok(Math.abs(normalQuantile(0.95) - 1.6448536) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.001) + 3.090232) < 1e-5);
  });

  it('never fails two models that both score 0 (the tiny model on HumanEval), nor an empty suite', () => {
    const zero = checkNonInferiority(pairsOf(ones(164, 0), ones(164, 0)), policy);
    assert.equal(zero.ok, true);
    assert.equal(zero.difference, 0);
    assert.ok(zero.upper_bound > 0);
    assert.equal(checkNonInferiority([], policy).ok, true);
  });

  it('does not fail a 20-item suite for two items worse (the old fixed guard did)', () => {
    const r = checkNonInferiority(pairsOf(ones(20, 8), ones(20, 10)), policy);
    assert.equal(r.champion_only, 2);
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('fails a candidate that is clearly worse by more than the margin', () => {
    const r = checkNonInferiority(pairsOf(ones(164, 60), ones(164, 100)), policy);
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.ok(r.upper_bound < -0.05);
  });

  it('in simulation: fails at most ~α of candidates that are exactly at the margin, and most clearly worse ones', () => {
    const random = prng(42);
    const simulate = (n: number, championRate: number, loss: number, runs: number) => {
      let failed = 0;
      for (let r = 0; r < runs; r++) {
        const champion = Array.from({ length: n }, () => random() < championRate);
        // The candidate loses each item the champion had with probability loss / championRate.
        const candidate = champion.map((c) => c && random() >= loss / championRate);
        if (!checkNonInferiority(pairsOf(candidate, champion), policy).ok) failed++;
      }
      return failed / runs;
    };
    const atMargin = simulate(164, 0.6, 0.05, 2000);
    assert.ok(atMargin <= 0.07, `false failures at the margin: ${atMargin}`);
    const noLoss = simulate(164, 0.6, 0, 500);
    assert.equal(noLoss, 0);
    const bigLoss = simulate(164, 0.6, 0.2, 500);
    assert.ok(bigLoss >= 0.9, `power against a 20-point loss: ${bigLoss}`);
  });
});

describe('the gate with the non-inferiority rule', () => {
  const gatePolicy: GatePolicy = {
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
  const result = (
    id: string,
    split: EvalItemResult['split'],
    correct: boolean,
    tests = false,
  ): EvalItemResult => ({
    item_id: id,
    split,
    exact: correct,
    functional: tests ? correct : null,
    correct,
    nll: 1,
    tokens: 1,
    bleu: 0,
    output: '',
  });
  const metrics = {} as EvaluationMetrics;
  const input = (regressionCandidate: boolean[], regressionChampion: boolean[]) => ({
    candidate: { ...metrics, accuracy: 1 },
    champion: { ...metrics, accuracy: 0 },
    pairs: [
      ...Array.from({ length: 12 }, (_, i) => ({
        item_id: `d${i}`,
        candidate: result(`d${i}`, 'in_domain', true, i < 4),
        champion: result(`d${i}`, 'in_domain', false, i < 4),
      })),
      ...regressionCandidate.map((c, i) => ({
        item_id: `HumanEval/${i}`,
        candidate: result(`HumanEval/${i}`, 'regression', c, true),
        champion: result(`HumanEval/${i}`, 'regression', regressionChampion[i]!, true),
      })),
    ],
  });

  it('promotes a real in-domain gain when both models score 0 on the anchor suite, and names the metric', () => {
    const d = decide(input(ones(28, 0), ones(28, 0)), gatePolicy);
    assert.equal(d.decision, 'promote', d.reason);
    assert.equal(d.non_inferiority.ok, true);
    assert.match(d.reason, /regression 0\.0000 → 0\.0000 on 28 items .*not significantly worse/);
    assert.match(d.reason, /accuracy by functional tests on 4 and exact match on 8 in-domain items/);
  });

  it('rejects a real in-domain gain that forgets what the anchor suite covers', () => {
    const d = decide(input(ones(164, 40), ones(164, 100)), gatePolicy);
    assert.equal(d.decision, 'reject');
    assert.equal(d.non_inferiority.ok, false);
    assert.match(
      d.reason,
      /regression 0\.6098 → 0\.2439 on 164 items .*: significantly worse than the champion by more than 0\.05/,
    );
  });

  it('says which correctness decided', () => {
    const exactOnly = [{ candidate: { functional: null } }, { candidate: { functional: null } }];
    assert.equal(describeMetricSource(exactOnly), 'accuracy by exact match on all 2 in-domain items');
    assert.equal(
      describeMetricSource([{ candidate: { functional: true } }]),
      'accuracy by functional tests on all 1 in-domain items',
    );
  });
});
