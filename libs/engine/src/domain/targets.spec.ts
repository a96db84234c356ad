import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkConstraints,
  describeConstraint,
  effectiveConstraints,
  parseTaskTargets,
  targetsMet,
} from './targets';
import { optimisationRule } from './rules';
import type { ModelSignals } from './priority';

describe('task targets and constraints (ADR 0027)', () => {
  it('accepts the known keys and names every unknown or out-of-range one with the allowed keys', () => {
    const ok = parseTaskTargets(
      { accuracy: 0.8, gain: 0.02 },
      { latency_target_ms: 200, max_size_bytes: 5000 },
    );
    assert.deepEqual(ok, {
      errors: [],
      targets: {
        target_metrics: { accuracy: 0.8, gain: 0.02 },
        constraints: { latency_target_ms: 200, max_size_bytes: 5000 },
      },
    });
    const bad = parseTaskTargets(
      { accuracy: 1.5, f1: 0.9, constructor: 1 },
      { max_minutes: 60, max_size_bytes: 12.5, latency_target_ms: '200' },
    );
    assert.deepEqual(
      bad.errors.map((e) => e.path),
      [
        '/target_metrics/accuracy',
        '/target_metrics/f1',
        '/target_metrics/constructor',
        '/constraints/max_minutes',
        '/constraints/max_size_bytes',
        '/constraints/latency_target_ms',
      ],
    );
    assert.match(
      bad.errors[1]!.message,
      /allowed keys: accuracy, exact_match, functional_pass_rate, success_rate, bleu, perplexity, gain/,
    );
    assert.match(bad.errors[3]!.message, /allowed keys: latency_target_ms, max_size_bytes/);
    assert.match(bad.errors[4]!.message, /must be an integer from 1/);
    assert.deepEqual(parseTaskTargets([], 'x').errors, [
      { path: '/target_metrics', message: 'must be an object' },
      { path: '/constraints', message: 'must be an object' },
    ]);
  });

  it('merges the family and the task constraints: the stricter limit wins and names its source', () => {
    assert.deepEqual(
      effectiveConstraints({ latency_target_ms: 100, max_size_bytes: 10 }, { latency_target_ms: 50 }),
      [
        { constraint: 'latency_target_ms', limit: 50, source: 'task' },
        { constraint: 'max_size_bytes', limit: 10, source: 'family' },
      ],
    );
    assert.deepEqual(effectiveConstraints({ latency_target_ms: 40 }, { latency_target_ms: 50 }), [
      { constraint: 'latency_target_ms', limit: 40, source: 'family' },
    ]);
    assert.deepEqual(effectiveConstraints({ max_size_bytes: 7 }, { max_size_bytes: 7 }), [
      { constraint: 'max_size_bytes', limit: 7, source: 'family+task' },
    ]);
    assert.deepEqual(effectiveConstraints(undefined, {}), []);
  });

  it('judges measured values only and describes each with its code and figures', () => {
    const checks = checkConstraints(
      [
        { constraint: 'latency_target_ms', limit: 10, source: 'task' },
        { constraint: 'max_size_bytes', limit: 1000, source: 'family' },
      ],
      { latency_target_ms: 25, max_size_bytes: null },
    );
    assert.deepEqual(
      checks.map((c) => [c.code, c.value, c.ok]),
      [
        ['latency_constraint', 25, false],
        ['size_constraint', null, null],
      ],
    );
    assert.equal(
      describeConstraint(checks[0]!),
      'latency_constraint: mean latency 25 ms per item > 10 (task)',
    );
    assert.equal(
      describeConstraint(checks[1]!),
      'max_size_bytes 1000 (family) not judged: artifact size not measured',
    );
  });

  it('records whether each target was reached; an unmeasured metric is not reached', () => {
    assert.equal(targetsMet({}, { accuracy: 0.9 }, 0.1), null);
    assert.deepEqual(
      targetsMet(
        { accuracy: 0.8, gain: 0.05, perplexity: 3, bleu: 20 },
        { accuracy: 0.85, perplexity: 4, bleu: null },
        0.05,
      ),
      {
        all: false,
        metrics: {
          accuracy: { target: 0.8, value: 0.85, met: true },
          gain: { target: 0.05, value: 0.05, met: true },
          perplexity: { target: 3, value: 4, met: false },
          bleu: { target: 20, value: null, met: false },
        },
      },
    );
    assert.equal(targetsMet({ accuracy: 0.8 }, { accuracy: 0.8 }, 0)!.all, true);
  });

  it('sees an optimisation need only when the champion is measured over its family target', () => {
    const base = { latency_ms: null, latency_target_ms: null } as unknown as ModelSignals;
    assert.equal(optimisationRule(base).needed, false);
    assert.equal(optimisationRule({ ...base, latency_ms: 30, latency_target_ms: 50 }).needed, false);
    const over = optimisationRule({ ...base, latency_ms: 80, latency_target_ms: 50 });
    assert.equal(over.needed, true);
    assert.match(over.reason, /80\.0 ms per item > target 50 ms: optimisation needed \(not runnable yet/);
  });
});
