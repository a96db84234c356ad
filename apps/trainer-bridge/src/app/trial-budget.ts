import type { StudyProgress } from './study-metrics';

/** What to do after a trial: queue `queue` more, wait for the ones in flight, or end the study. */
export interface TrialDecision {
  queue: number;
  finish: boolean;
  stoppedBy: StudyProgress['stopped_by'];
}

/**
 * The budget, enforced here and only here (ADR 0025): a trial is queued only while finished + in
 * flight stays under the trial budget and the finished trials' worker-seconds under theirs, at most
 * `parallelism` in flight. So a study never runs more trials than its budget; the worker-seconds
 * may pass theirs by the trials already in flight when it ran out. Pure, for its spec.
 */
export function decideNextTrials(
  tally: { finished: number; running: number; seconds: number },
  budget: { trials: number; worker_seconds: number },
  parallelism: number,
): TrialDecision {
  const stoppedBy =
    tally.finished >= budget.trials
      ? 'trials'
      : tally.seconds >= budget.worker_seconds
        ? 'worker_seconds'
        : null;
  if (stoppedBy) return { queue: 0, finish: tally.running === 0, stoppedBy };
  const queue = Math.max(
    0,
    Math.min(parallelism - tally.running, budget.trials - tally.finished - tally.running),
  );
  return { queue, finish: false, stoppedBy: null };
}
