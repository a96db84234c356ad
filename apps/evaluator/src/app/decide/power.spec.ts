import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EXACT_LIMIT,
  itemsNeeded,
  minimumDetectableEffect,
  normalCdf,
  normalQuantile,
  powerAt,
} from './power';

const q = (
  items: number,
  discordance: number,
  test: 'mcnemar_exact' | 'paired_bootstrap' = 'mcnemar_exact',
) => ({
  items,
  discordance,
  significance: 0.05,
  power: 0.8,
  test,
});

/** P(Bin(n, p) ≥ k) by the plain sum, for checking. */
function tail(n: number, p: number, k: number): number {
  let sum = 0;
  for (let b = k; b <= n; b++) {
    let c = 1;
    for (let i = 0; i < b; i++) c = (c * (n - i)) / (i + 1);
    sum += c * p ** b * (1 - p) ** (n - b);
  }
  return sum;
}

describe('the power of the paired test', () => {
  it('normal helpers are right to 1e-6', () => {
    assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.95) - 1.644854) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.8) - 0.841621) < 1e-6);
  });

  it('with models that never disagree, a gain must show as ≥ 5 candidate-only items (2⁻⁵ < 0.05)', () => {
    // discordance 0 → ψ = δ, every discordant item goes the candidate's way: power = P(Bin(n, δ) ≥ 5)
    for (const effect of [0.1, 0.25, 0.4]) {
      assert.ok(Math.abs(powerAt(effect, q(20, 0)) - tail(20, effect, 5)) < 1e-9, `effect ${effect}`);
    }
    const mde = minimumDetectableEffect(q(20, 0))!;
    assert.ok(tail(20, mde, 5) >= 0.8 && tail(20, mde - 0.001, 5) < 0.8, `mde ${mde}`);
  });

  it('holds the size at no gain and grows with the gain and the suite', () => {
    assert.ok(powerAt(0, q(100, 0.3)) <= 0.05);
    assert.ok(powerAt(0.05, q(100, 0.3)) < powerAt(0.1, q(100, 0.3)));
    assert.ok(minimumDetectableEffect(q(400, 0.3))! < minimumDetectableEffect(q(100, 0.3))!);
    assert.equal(minimumDetectableEffect(q(0, 0.3)), null);
    assert.equal(minimumDetectableEffect(q(3, 0)), null, '3 items can never reach p < 0.05');
  });

  it('agrees with the normal approximation where the exact sum hands over to it', () => {
    const exact = powerAt(0.03, q(EXACT_LIMIT, 0.2));
    const approx = powerAt(0.03, q(EXACT_LIMIT + 1, 0.2));
    assert.ok(Math.abs(exact - approx) < 0.01, `${exact} vs ${approx}`);
  });

  it('names about the textbook sample size for a small gain', () => {
    // n ≈ ((z_α √ψ + z_β √(ψ − δ²)) / δ)² = ((1.645 + 0.842) · √0.3 / 0.01)² ≈ 18,550
    const n = itemsNeeded(0.01, q(100, 0.3))!;
    assert.ok(Math.abs(n - 18_550) < 100, String(n));
    const small = itemsNeeded(0.2, q(20, 0.3))!;
    assert.ok(powerAt(0.2, q(small, 0.3)) >= 0.8 && powerAt(0.2, q(small - 1, 0.3)) < 0.85, String(small));
    assert.equal(itemsNeeded(0, q(100, 0.3)), null);
  });
});
