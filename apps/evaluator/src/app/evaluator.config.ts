import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import { ARTIFACTS_BUCKET } from '@genesis/messaging';
import type { SlicePolicy } from './decide/slices';

export const EVALUATOR_CONFIG = Symbol('EVALUATOR_CONFIG');

export type PairedTestName = 'mcnemar_exact' | 'paired_bootstrap';
export const PAIRED_TESTS: readonly PairedTestName[] = ['mcnemar_exact', 'paired_bootstrap'];

/** Metrics a guard may watch; rates and BLEU are absolute drops, perplexity a relative rise. */
export const GUARD_METRICS = [
  'success_rate',
  'exact_match',
  'functional_pass_rate',
  'bleu',
  'perplexity',
] as const;
export type GuardMetric = (typeof GUARD_METRICS)[number];

export interface GatePolicy {
  /** Absolute gain the primary metric must exceed (the spec's 1 %). */
  minImprovement: number;
  significance: number;
  /**
   * Probability with which the gate should detect a real gain (ADR 0015): a suite whose minimum
   * detectable effect at this power exceeds minImprovement makes a non-significant result
   * `inconclusive` instead of `reject`.
   */
  power: number;
  /** false reproduces the plain "> min improvement" rule. */
  requireSignificance: boolean;
  test: PairedTestName;
  bootstrapSamples: number;
  /** How far each guard metric may regress. */
  guards: Partial<Record<GuardMetric, number>>;
  /** Non-inferiority margin on the regression and anchor suites (ADR 0016). */
  anchorMargin: number;
  seed: number;
  /** The per-slice gate (ADR 0020): on by default, with its family-wise alpha. */
  slices: SlicePolicy;
}

/** The versioned in-domain suite and the anchor suite (ADR 0016). */
export interface SuitesConfig {
  /** A new in-domain version needs this share of the current one's size in fresh items ... */
  growth: number;
  /** ... and at least this many. */
  growthMinItems: number;
  /** HumanEval problems per evaluation: 164 = all, 0 = no anchor suite. */
  anchorItems: number;
  /** The same for the tiny CPU model (tests, CI, the demo), which scores 0 on HumanEval anyway. */
  anchorItemsTiny: number;
}

/** The anchor problems an evaluation of `baseModel` runs (0: none). */
export function anchorItemsFor(suites: SuitesConfig, baseModel: string): number {
  return baseModel === 'tiny' ? suites.anchorItemsTiny : suites.anchorItems;
}

export interface EvaluatorConfig extends ServiceConfig {
  gate: GatePolicy;
  artifactsBucket: string;
  maxAttempts: number;
  /** Fixed generation budget; 0 = derived per suite by the worker from its references (ADR 0016). */
  maxNewTokens: number;
  /** Upper bound of a derived budget. */
  maxNewTokensCap: number;
  suites: SuitesConfig;
  sandbox: { cpu_seconds: number; memory_mb: number; wall_seconds: number };
}

function parseGuards(value: unknown): Partial<Record<GuardMetric, number>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('must be a JSON object like {"success_rate": 0.05}');
  const out: Partial<Record<GuardMetric, number>> = {};
  for (const [metric, tolerance] of Object.entries(value)) {
    if (!(GUARD_METRICS as readonly string[]).includes(metric))
      throw new Error(`unknown guard metric "${metric}" (known: ${GUARD_METRICS.join(', ')})`);
    if (typeof tolerance !== 'number' || !(tolerance >= 0))
      throw new Error(`tolerance of ${metric} must be a number >= 0`);
    out[metric as GuardMetric] = tolerance;
  }
  return out;
}

export function readGatePolicy(env: EnvReader): GatePolicy {
  return {
    minImprovement: env.float('GENESIS_MIN_IMPROVEMENT', 0.01, { min: 0, max: 1 }),
    significance: env.float('GENESIS_SIGNIFICANCE', 0.05, { min: 1e-9, max: 1 }),
    power: env.float('GENESIS_GATE_POWER', 0.8, { min: 0.5, max: 0.99 }),
    requireSignificance: env.bool('GENESIS_REQUIRE_SIGNIFICANCE', true),
    test: env.oneOf('GENESIS_SIGNIFICANCE_TEST', PAIRED_TESTS, 'mcnemar_exact'),
    bootstrapSamples: env.int('GENESIS_BOOTSTRAP_SAMPLES', 10_000, { min: 100, max: 1_000_000 }),
    // No fixed guard by default: the regression and anchor suites are judged by the
    // non-inferiority test (GENESIS_ANCHOR_MARGIN), not by a tolerance that ignores their size.
    guards: env.json('GENESIS_GUARD_TOLERANCES', {}, parseGuards),
    anchorMargin: env.float('GENESIS_ANCHOR_MARGIN', 0.05, { min: 0, max: 1 }),
    seed: env.int('GENESIS_EVALUATION_SEED', 1234, { min: 0 }),
    slices: {
      enabled: env.bool('GENESIS_SLICE_GATE', true),
      alpha: env.float('GENESIS_SLICE_ALPHA', 0.05, { min: 1e-9, max: 0.5 }),
    },
  };
}

export function readEvaluatorConfig(env: EnvReader): EvaluatorConfig {
  return {
    ...readServiceConfig(env, 'evaluator'),
    gate: readGatePolicy(env),
    artifactsBucket: env.str('GENESIS_ARTIFACTS_BUCKET', ARTIFACTS_BUCKET),
    maxAttempts: env.int('GENESIS_EVALUATION_MAX_ATTEMPTS', 3, { min: 1, max: 20 }),
    maxNewTokens: env.int('GENESIS_EVAL_MAX_NEW_TOKENS', 0, { min: 0, max: 4096 }),
    maxNewTokensCap: env.int('GENESIS_EVAL_MAX_NEW_TOKENS_CAP', 1024, { min: 1, max: 4096 }),
    suites: {
      growth: env.float('GENESIS_SUITE_GROWTH', 0.25, { min: 0, max: 10 }),
      growthMinItems: env.int('GENESIS_SUITE_GROWTH_MIN_ITEMS', 1, { min: 1, max: 1_000_000 }),
      anchorItems: env.int('GENESIS_ANCHOR_ITEMS', 164, { min: 0, max: 164 }),
      anchorItemsTiny: env.int('GENESIS_ANCHOR_ITEMS_TINY', 8, { min: 0, max: 164 }),
    },
    sandbox: {
      cpu_seconds: env.int('GENESIS_SANDBOX_CPU_SECONDS', 5, { min: 1, max: 600 }),
      memory_mb: env.int('GENESIS_SANDBOX_MEMORY_MB', 512, { min: 16, max: 16384 }),
      wall_seconds: env.float('GENESIS_SANDBOX_WALL_SECONDS', 10, { min: 0.1, max: 600 }),
    },
  };
}
