import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EvalItemResult, EvaluationMetrics } from '@genesis/contracts';
import type { GatePolicy } from '../evaluator.config';
import { decide } from './decision';
import { mcnemarExact, pairedBootstrap } from './paired-test';

const policy: GatePolicy = {
  minImprovement: 0.01,
  significance: 0.05,
  power: 0.8,
  requireSignificance: true,
  test: 'mcnemar_exact',
  bootstrapSamples: 2000,
  guards: { success_rate: 0.05 },
  anchorMargin: 0.05,
  seed: 7,
  slices: { enabled: true, alpha: 0.05 },
};

function item(id: string, correct: boolean, split: EvalItemResult['split'] = 'in_domain'): EvalItemResult {
  return {
    item_id: id,
    split,
    exact: correct,
    functional: null,
    correct,
    nll: 1,
    tokens: 1,
    bleu: correct ? 100 : 0,
    output: '',
  };
}

/** Pairs from per-item correctness strings, e.g. candidate '1101', champion '0100'. */
function suite(candidate: string, champion: string, regression?: { candidate: string; champion: string }) {
  const pairs = [...candidate].map((c, i) => ({
    item_id: `i${i}`,
    candidate: item(`i${i}`, c === '1'),
    champion: item(`i${i}`, champion[i] === '1'),
  }));
  const reg = regression
    ? [...regression.candidate].map((c, i) => ({
        item_id: `r${i}`,
        candidate: item(`r${i}`, c === '1', 'regression'),
        champion: item(`r${i}`, regression.champion[i] === '1', 'regression'),
      }))
    : [];
  const metrics = (bits: string, regBits?: string): EvaluationMetrics => ({
    accuracy: [...bits].filter((b) => b === '1').length / bits.length,
    exact_match: null,
    functional_pass_rate: null,
    perplexity: null,
    bleu: null,
    success_rate: regBits ? [...regBits].filter((b) => b === '1').length / regBits.length : null,
    items: bits.length + (regBits?.length ?? 0),
    in_domain_items: bits.length,
    regression_items: regBits?.length ?? 0,
    functional_items: 0,
  });
  return {
    pairs: [...pairs, ...reg],
    candidate: metrics(candidate, regression?.candidate),
    champion: metrics(champion, regression?.champion),
  };
}

describe('paired tests', () => {
  it('exact McNemar matches the binomial tail', () => {
    assert.equal(mcnemarExact(0, 0), 1);
    assert.ok(Math.abs(mcnemarExact(10, 0) - 1 / 1024) < 1e-12);
    // P(X >= 8 | n=10) = (45 + 10 + 1) / 1024
    assert.ok(Math.abs(mcnemarExact(8, 2) - 56 / 1024) < 1e-12);
    assert.ok(Math.abs(mcnemarExact(0, 5) - 1) < 1e-12);
    // large n stays finite and in [0, 1]
    const p = mcnemarExact(2600, 2400);
    assert.ok(p > 0 && p < 0.01, `p=${p}`);
  });

  it('paired bootstrap is deterministic for a seed and centred on the mean difference', () => {
    const diffs = [...Array(100)].map((_, i) => (i < 30 ? 1 : i < 35 ? -1 : 0));
    const a = pairedBootstrap(diffs, 2000, 0.05, 1);
    assert.deepEqual(a, pairedBootstrap(diffs, 2000, 0.05, 1));
    assert.ok(a.interval[0] > 0 && a.interval[0] < 0.25 && a.interval[1] > 0.25, JSON.stringify(a));
    assert.ok(a.pValue < 0.01);
    const none = pairedBootstrap([1, -1, 1, -1, 0, 0], 2000, 0.05, 1);
    assert.ok(none.interval[0] < 0 && none.pValue > 0.05);
  });
});

describe('the promotion gate', () => {
  it('promotes a real, significant gain and says why', () => {
    const d = decide(suite('1111111111', '0000000000'), policy);
    assert.equal(d.decision, 'promote');
    assert.equal(d.test.candidate_only, 10);
    assert.match(
      d.reason,
      /^promote: accuracy 0\.0000 → 1\.0000 \(\+1\.0000 > 0\.01\); McNemar exact p=0\.000977 < 0\.05/,
    );
    // Significant is significant: a small suite's power matters only for what a miss means.
    assert.ok(d.power.mde! > 0.01);
  });

  it('rejects a gain that is not significant on a suite that could have detected the minimum, naming the metric, the test and the power', () => {
    // +0.1 on 20 items: 3 vs 1 discordant → p = 5/16; the suite detects about +0.3 at 80% power
    const d = decide(suite('11110000000000000000', '10001000000000000000'), {
      ...policy,
      minImprovement: 0.5,
    });
    assert.equal(d.decision, 'reject');
    assert.ok(Math.abs(d.test.p_value! - 5 / 16) < 1e-12);
    assert.match(d.reason, /accuracy 0\.1000 → 0\.2000/);
    assert.match(d.reason, /McNemar exact p=0\.312 ≥ 0\.05/);
    assert.ok(d.power.mde! > 0.2 && d.power.mde! < 0.5, JSON.stringify(d.power));
    assert.match(d.reason, /at 80% power 20 items detect \+0\.\d{4}; guards ok$/);
  });

  it('calls a non-significant result on a suite too small for the minimum improvement inconclusive, and says how many more items it needs', () => {
    const d = decide(suite('11110000000000000000', '10001000000000000000'), policy);
    assert.equal(d.decision, 'inconclusive');
    assert.equal(d.power.items, 20);
    assert.equal(d.power.discordance, 0.2);
    assert.equal(d.power.target_power, 0.8);
    assert.ok(d.power.mde! > policy.minImprovement);
    // At discordance 0.2, +0.01 at 80% power takes about ((1.645 + 0.842)·√0.2 / 0.01)² ≈ 12,400 items.
    assert.ok(d.power.needed_items! > 11_000 && d.power.needed_items! < 14_000, JSON.stringify(d.power));
    assert.match(
      d.reason,
      /^inconclusive: accuracy 0\.1000 → 0\.2000 .*; at 80% power 20 items detect \+0\.\d{4}, not \+0\.0100: about 1[1-3],\d{3} more held-out items needed; guards ok$/,
    );
  });

  it('is conclusive whatever the power when the champion is significantly better or a guard fails', () => {
    const worse = decide(suite('0000000000', '1111111111'), policy);
    assert.equal(worse.decision, 'reject');
    assert.match(worse.reason, /the champion is significantly better/);
    const guard = decide(
      suite('1000000000', '0000000000', { candidate: '0000000000', champion: '1111100000' }),
      policy,
    );
    assert.equal(guard.decision, 'reject');
  });

  it('calls a suite on which neither model scores inconclusive, counting the unwinnable items', () => {
    const s = suite('0000000000', '0000000000');
    for (const p of s.pairs.slice(0, 4)) p.candidate.unwinnable = p.champion.unwinnable = true;
    const d = decide(s, { ...policy, minImprovement: 0.5 });
    assert.equal(d.decision, 'inconclusive');
    assert.equal(d.power.unwinnable_items, 4);
    assert.match(
      d.reason,
      /neither model got any of the 10 in-domain items right \(4 longer than the generation budget, never winnable\)/,
    );
  });

  it('with significance switched off reproduces the plain > 1 % rule', () => {
    const d = decide(suite('11110000000000000000', '10001000000000000000'), {
      ...policy,
      requireSignificance: false,
    });
    assert.equal(d.decision, 'promote');
    assert.match(d.reason, /not required/);
    const flat = decide(suite('1100', '1100'), { ...policy, requireSignificance: false });
    assert.equal(flat.decision, 'reject');
    assert.match(flat.reason, /needs > 0\.01/);
  });

  it('rejects when a guard regresses past its tolerance, even with a significant gain', () => {
    const d = decide(
      suite('1111111111', '0000000000', { candidate: '0000000000', champion: '1111100000' }),
      policy,
    );
    assert.equal(d.decision, 'reject');
    assert.deepEqual(
      d.guards.map((g) => [g.metric, g.ok]),
      [['success_rate', false]],
    );
    assert.match(d.reason, /guard success_rate 0\.5000 → 0\.0000 past tolerance 0\.05/);
  });

  it('is inconclusive when there is nothing in-domain to compare on', () => {
    const d = decide(suite('', ''), policy);
    assert.equal(d.decision, 'inconclusive');
    assert.match(d.reason, /^inconclusive: no in-domain items to compare accuracy on; McNemar/);
    assert.equal(d.power.mde, null);
    assert.equal(d.power.needed_items, null);
  });

  it('uses the paired bootstrap when configured', () => {
    const d = decide(suite('1111111111', '0000000000'), { ...policy, test: 'paired_bootstrap' });
    assert.equal(d.test.name, 'paired_bootstrap');
    assert.equal(d.decision, 'promote');
    assert.match(d.reason, /paired bootstrap p=0 < 0\.05, interval \[\+1\.0000, \+1\.0000\]/);
  });
});
