/**
 * The improvement cycle's state machine (ADR 0004). Pure domain code: no infrastructure imports,
 * so every service that advances a cycle (monitor, trainer-bridge, evaluator, deployer) shares
 * exactly one definition of what may follow what.
 */
export const HAPPY_PATH = [
  'opened',
  'dataset_ready',
  'training',
  'trained',
  'evaluating',
  'evaluated',
  'deploying',
  'deployed',
] as const;

/**
 * `inconclusive` (ADR 0015): the gate could not tell whether the candidate is better (suite too
 * small for the configured minimum improvement, or neither model scored); the champion stays.
 */
export type CycleStatus = (typeof HAPPY_PATH)[number] | 'rejected' | 'inconclusive' | 'failed';
export const CYCLE_STATUSES: readonly CycleStatus[] = [...HAPPY_PATH, 'rejected', 'inconclusive', 'failed'];
export const TERMINAL_STATUSES: readonly CycleStatus[] = ['deployed', 'rejected', 'inconclusive', 'failed'];
export const ACTIVE_STATUSES: readonly CycleStatus[] = CYCLE_STATUSES.filter(
  (s) => !TERMINAL_STATUSES.includes(s),
);

/**
 * What a cycle does between its snapshot and its candidate (ADR 0025): `training` trains one LoRA
 * adapter with the model's training configuration; `architecture` runs a budgeted search over the
 * LoRA configuration and its best trial's adapter is the candidate. Evaluation, gate and
 * deployment are the same for both.
 */
export type CycleKind = 'training' | 'architecture';
export const CYCLE_KINDS: readonly CycleKind[] = ['training', 'architecture'];

export function isCycleKind(value: unknown): value is CycleKind {
  return typeof value === 'string' && (CYCLE_KINDS as readonly string[]).includes(value);
}

export type TriggerKind = 'learnings' | 'time' | 'performance' | 'manual';
export const TRIGGER_KINDS: readonly TriggerKind[] = ['learnings', 'time', 'performance', 'manual'];

/** Stable codes of refused transitions (they travel in logs, DLQ reasons and API problems). */
export type CycleErrorCode =
  'UNKNOWN_CYCLE_STATUS' | 'ILLEGAL_TRANSITION' | 'CYCLE_ALREADY_FINISHED' | 'CYCLE_NOT_FOUND';

export class CycleTransitionError extends Error {
  constructor(
    readonly code: CycleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CycleTransitionError';
  }
}

export function isCycleStatus(value: unknown): value is CycleStatus {
  return typeof value === 'string' && (CYCLE_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: CycleStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * Whether an ended cycle counts as a rejected candidate (for back-off after rejections): an
 * `inconclusive` one does not — the gate could not tell, which says nothing against the data.
 */
export function countsAsRejection(status: CycleStatus): boolean {
  return status === 'rejected';
}

/** Ended without a new champion, the old one staying: rejected or inconclusive. */
export function keptChampion(status: CycleStatus): boolean {
  return status === 'rejected' || status === 'inconclusive';
}

/** Moves allowed from each state (besides staying put, which is always an idempotent no-op). */
const NEXT: Record<CycleStatus, readonly CycleStatus[]> = {
  opened: ['dataset_ready', 'failed'],
  dataset_ready: ['training', 'failed'],
  training: ['trained', 'failed'],
  trained: ['evaluating', 'failed'],
  evaluating: ['evaluated', 'failed'],
  evaluated: ['deploying', 'rejected', 'inconclusive', 'failed'],
  deploying: ['deployed', 'failed'],
  deployed: [],
  rejected: [],
  inconclusive: [],
  failed: [],
};

export function allowedNext(status: CycleStatus): readonly CycleStatus[] {
  return NEXT[status];
}

/**
 * What to do when asked to move a cycle from `from` to `to`:
 * - `apply`: a legal step;
 * - `noop`: already there, or a redelivered older step of the happy path that the cycle has
 *   already passed (at-least-once delivery makes both normal, so they are not errors);
 * - otherwise a CycleTransitionError with a stable code.
 */
export function planTransition(from: string, to: string): 'apply' | 'noop' {
  if (!isCycleStatus(from))
    throw new CycleTransitionError('UNKNOWN_CYCLE_STATUS', `unknown cycle status "${from}"`);
  if (!isCycleStatus(to))
    throw new CycleTransitionError('UNKNOWN_CYCLE_STATUS', `unknown cycle status "${to}"`);
  if (from === to) return 'noop';
  if (NEXT[from].includes(to)) return 'apply';
  const fromIndex = HAPPY_PATH.indexOf(from as (typeof HAPPY_PATH)[number]);
  const toIndex = HAPPY_PATH.indexOf(to as (typeof HAPPY_PATH)[number]);
  if (fromIndex >= 0 && toIndex >= 0 && toIndex < fromIndex) return 'noop';
  if (isTerminal(from)) {
    throw new CycleTransitionError(
      'CYCLE_ALREADY_FINISHED',
      `the cycle already ended as ${from}; cannot move to ${to}`,
    );
  }
  throw new CycleTransitionError(
    'ILLEGAL_TRANSITION',
    `cannot move a cycle from ${from} to ${to} (allowed: ${[...NEXT[from]].join(', ')})`,
  );
}

/** Name of the column holding the time a cycle entered `status`. */
export function phaseColumn(status: CycleStatus): string {
  return `${status}_at`;
}
