/**
 * What a task asks of its candidate (ADR 0027): target metrics it aims at, and constraints it must
 * not break. Both are closed vocabularies, so a typo is a 422 naming the allowed keys instead of a
 * key stored and silently ignored.
 *
 * - A **target** is an aim: the candidate's metric on the gate's suite reaching it is recorded in
 *   the task's result (`targets_met`); missing it does not block a deployment the gate allows.
 * - A **constraint** is a limit: the gate rejects a candidate that breaks one, naming it. The
 *   family's constraints (libs/registry) and the task's both apply; the stricter wins.
 */

/** Higher is better unless `lower` (perplexity). `gain` is the gate's accuracy delta over the champion. */
export const TARGET_METRICS = {
  accuracy: { min: 0, max: 1, lower: false, what: 'in-domain accuracy on the gate suite, 0..1' },
  exact_match: { min: 0, max: 1, lower: false, what: 'exact-match rate, 0..1' },
  functional_pass_rate: { min: 0, max: 1, lower: false, what: 'share of items whose tests pass, 0..1' },
  success_rate: { min: 0, max: 1, lower: false, what: 'success rate, 0..1' },
  bleu: { min: 0, max: 100, lower: false, what: 'sacreBLEU score, 0..100' },
  perplexity: { min: 1, max: 1e9, lower: true, what: 'perplexity, at most this (≥ 1)' },
  gain: { min: -1, max: 1, lower: false, what: 'accuracy gain over the champion, −1..1' },
} as const;
export type TargetMetric = keyof typeof TARGET_METRICS;
export const TARGET_METRIC_KEYS = Object.keys(TARGET_METRICS) as TargetMetric[];

/** Limits the gate enforces (reason codes in CONSTRAINT_CODES). */
export const TASK_CONSTRAINTS = {
  latency_target_ms: {
    min: 0.001,
    max: 3_600_000,
    integer: false,
    what: 'mean generation latency per evaluated item, at most this many ms',
  },
  max_size_bytes: { min: 1, max: 1e15, integer: true, what: "the candidate artifact's size, at most" },
} as const;
export type TaskConstraint = keyof typeof TASK_CONSTRAINTS;
export const TASK_CONSTRAINT_KEYS = Object.keys(TASK_CONSTRAINTS) as TaskConstraint[];

/** The stable reason code of each broken constraint (in the gate's reason and `constraints[].code`). */
export const CONSTRAINT_CODES = {
  latency_target_ms: 'latency_constraint',
  max_size_bytes: 'size_constraint',
} as const satisfies Record<TaskConstraint, string>;
export type ConstraintCode = (typeof CONSTRAINT_CODES)[TaskConstraint];

export type TargetMetrics = Partial<Record<TargetMetric, number>>;
export type TaskConstraints = Partial<Record<TaskConstraint, number>>;

/** What a task carries into its cycle (improvement_cycles.targets), read by the gate. */
export interface CycleTargets {
  target_metrics: TargetMetrics;
  constraints: TaskConstraints;
}

export interface FieldIssue {
  path: string;
  message: string;
}

function closedNumbers<K extends string>(
  value: unknown,
  path: string,
  spec: Record<K, { min: number; max: number; integer?: boolean; what: string }>,
  errors: FieldIssue[],
): Partial<Record<K, number>> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ path, message: 'must be an object' });
    return {};
  }
  const allowed = Object.keys(spec);
  const out: Partial<Record<K, number>> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const s = Object.hasOwn(spec, k)
      ? (spec as Record<string, { min: number; max: number; integer?: boolean; what: string }>)[k]
      : undefined;
    if (!s) {
      errors.push({ path: `${path}/${k}`, message: `is not one of the allowed keys: ${allowed.join(', ')}` });
      continue;
    }
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < s.min ||
      v > s.max ||
      (s.integer && !Number.isInteger(v))
    )
      errors.push({
        path: `${path}/${k}`,
        message: `must be ${s.integer ? 'an integer' : 'a number'} from ${s.min} to ${s.max} (${s.what})`,
      });
    else out[k as K] = v;
  }
  return out;
}

/** A task's target_metrics and constraints as posted: every problem with its JSON pointer. */
export function parseTaskTargets(
  targetMetrics: unknown,
  constraints: unknown,
): { targets: CycleTargets; errors: FieldIssue[] } {
  const errors: FieldIssue[] = [];
  const t = closedNumbers(targetMetrics, '/target_metrics', TARGET_METRICS, errors);
  const c = closedNumbers(constraints, '/constraints', TASK_CONSTRAINTS, errors);
  return { targets: { target_metrics: t, constraints: c }, errors };
}

/** One constraint in force, where it came from, and whether the candidate kept it. */
export interface ConstraintCheck {
  constraint: TaskConstraint;
  code: ConstraintCode;
  limit: number;
  /** `family`, `task`, or `family+task` when both set the same limit. */
  source: 'family' | 'task' | 'family+task';
  /** The candidate's measured value; null when it was not measured (the constraint cannot be judged). */
  value: number | null;
  /** null: not measured, so not judged (never a rejection on a guess). */
  ok: boolean | null;
}

/** The family's and the task's limits merged: for each constraint the smaller limit wins. */
export function effectiveConstraints(
  family: TaskConstraints | undefined,
  task: TaskConstraints | undefined,
): { constraint: TaskConstraint; limit: number; source: ConstraintCheck['source'] }[] {
  const out: { constraint: TaskConstraint; limit: number; source: ConstraintCheck['source'] }[] = [];
  for (const k of TASK_CONSTRAINT_KEYS) {
    const f = numberOrUndefined(family?.[k]);
    const t = numberOrUndefined(task?.[k]);
    if (f === undefined && t === undefined) continue;
    if (t === undefined) out.push({ constraint: k, limit: f!, source: 'family' });
    else if (f === undefined) out.push({ constraint: k, limit: t, source: 'task' });
    else
      out.push({
        constraint: k,
        limit: Math.min(f, t),
        source: f === t ? 'family+task' : f < t ? 'family' : 'task',
      });
  }
  return out;
}

const numberOrUndefined = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The candidate's measurements against the constraints in force. */
export function checkConstraints(
  limits: ReturnType<typeof effectiveConstraints>,
  measured: Record<TaskConstraint, number | null>,
): ConstraintCheck[] {
  return limits.map(({ constraint, limit, source }) => {
    const value = measured[constraint];
    return {
      constraint,
      code: CONSTRAINT_CODES[constraint],
      limit,
      source,
      value: value === null ? null : round(value),
      ok: value === null ? null : value <= limit,
    };
  });
}

const UNITS: Record<TaskConstraint, [string, string]> = {
  latency_target_ms: ['mean latency', 'ms per item'],
  max_size_bytes: ['artifact size', 'bytes'],
};

/** "latency_constraint: mean latency 25 ms per item > 10 (task)" — one clause per constraint. */
export function describeConstraint(c: ConstraintCheck): string {
  const [what, unit] = UNITS[c.constraint];
  if (c.ok === null) return `${c.constraint} ${c.limit} (${c.source}) not judged: ${what} not measured`;
  return c.ok
    ? `${what} ${c.value} ${unit} ≤ ${c.limit} (${c.source})`
    : `${c.code}: ${what} ${c.value} ${unit} > ${c.limit} (${c.source})`;
}

/** One target metric of a finished task. */
export interface TargetOutcome {
  target: number;
  /** The candidate's value (null: not measured by its evaluation). */
  value: number | null;
  met: boolean;
}

/** `targets_met` of a task's result: per target, and whether every one was reached. */
export interface TargetsMet {
  all: boolean;
  metrics: Record<string, TargetOutcome>;
}

/**
 * Whether the candidate reached each target: from its metrics on the gate's suite and the gate's
 * delta (`gain`). null when the task set no target; an unmeasured metric counts as not met.
 */
export function targetsMet(
  targets: Record<string, unknown> | null | undefined,
  candidate: Record<string, unknown> | null | undefined,
  delta: number | null | undefined,
): TargetsMet | null {
  const entries = Object.entries(targets ?? {}).filter(
    (e): e is [TargetMetric, number] => Object.hasOwn(TARGET_METRICS, e[0]) && typeof e[1] === 'number',
  );
  if (entries.length === 0) return null;
  const metrics: Record<string, TargetOutcome> = {};
  for (const [k, target] of entries) {
    const raw = k === 'gain' ? delta : candidate?.[k];
    const value = typeof raw === 'number' && Number.isFinite(raw) ? round(raw) : null;
    const met = value !== null && (TARGET_METRICS[k].lower ? value <= target : value >= target);
    metrics[k] = { target, value, met };
  }
  return { all: Object.values(metrics).every((m) => m.met), metrics };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
