import type { ConstraintCheck, TargetsMet } from './targets';

/**
 * An improvement task (ADR 0024): one piece of work of one kind for one model, from the queue to
 * its outcome. The outcome statuses are the cycle's terminal statuses, so a task that ran a cycle
 * ends as its cycle ended; `cancelled` is for a queued task nobody wants any more.
 */
export const TASK_KINDS = ['training', 'architecture', 'optimisation', 'distillation'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_STATUSES = [
  'queued',
  'running',
  'deployed',
  'rejected',
  'inconclusive',
  'failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** What a finished cycle makes of its task. */
export const TASK_OUTCOMES = ['deployed', 'rejected', 'inconclusive', 'failed'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

export const ACTIVE_TASK_STATUSES: readonly TaskStatus[] = ['queued', 'running'];

export function isTaskKind(value: unknown): value is TaskKind {
  return typeof value === 'string' && (TASK_KINDS as readonly string[]).includes(value);
}

export function isTaskEnded(status: TaskStatus): boolean {
  return !ACTIVE_TASK_STATUSES.includes(status);
}

/** One measured signal's part in a priority: value × weight = contribution. */
export interface PriorityTerm {
  signal: string;
  /** null: not measured for this model (contributes nothing). */
  value: number | null;
  weight: number;
  contribution: number;
}

/** Why a task has its priority: the terms that add up to it, or the value a person gave. */
export interface PriorityExplanation {
  source: 'signals' | 'requested';
  terms: PriorityTerm[];
  /** The sentence a person reads, e.g. "backlog 1.50×1 + accuracy gap 0.05×2 = 1.60". */
  summary: string;
}

/** The result of a finished task. */
export interface TaskResult {
  /** Gain of the primary metric that went live: the gate's delta when deployed, 0 otherwise. */
  performance_gain: number;
  /** The gate's measured delta, whatever it decided (null when no evaluation ran). */
  measured_delta: number | null;
  primary_metric: string | null;
  /** The candidate's metrics on the gate's suite, when it was evaluated. */
  metrics: Record<string, unknown> | null;
  execution_seconds: number;
  model_version: string | null;
  failure_reason: string | null;
  /** Per target metric of the task, reached or not (ADR 0027); null when the task set none. */
  targets_met?: TargetsMet | null;
  /** The constraints the gate judged the candidate by (ADR 0027); null when no evaluation ran. */
  constraints?: ConstraintCheck[] | null;
}

/**
 * Kinds this build can start (the monitor's kinds.ts holds their start functions; a spec keeps
 * the two equal). The others are planned and shown, but not accepted as tasks yet.
 */
export const RUNNABLE_TASK_KINDS: readonly TaskKind[] = ['training', 'architecture'];
