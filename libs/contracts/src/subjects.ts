/**
 * Event subjects and streams (ADR 0001). The five product events keep the exact names of the
 * brief so `nats sub 'model.>'` shows the loop as it happens.
 */
export const SUBJECTS = {
  learningCaptured: 'learning.captured',
  learningStored: 'learning.stored',
  learningRejected: 'learning.rejected',
  learningRescanRequested: 'learning.rescan_requested',
  learningRescanned: 'learning.rescanned',
  feedbackRecorded: 'feedback.recorded',
  cycleRequested: 'cycle.requested',
  cycleFailed: 'cycle.failed',
  thresholdReached: 'threshold.reached',
  trainingProgress: 'training.progress',
  trainingCompleted: 'training.completed',
  trainingFailed: 'training.failed',
  modelTrained: 'model.trained',
  evaluationCompleted: 'evaluation.completed',
  evaluationFailed: 'evaluation.failed',
  modelEvaluated: 'model.evaluated',
  modelDeployed: 'model.deployed',
  modelRejected: 'model.rejected',
  modelRolledBack: 'model.rolled_back',
  rollbackRequested: 'rollback.requested',
  // The improvement engine (ADR 0024): a task's lifecycle, and a forced planning iteration.
  taskQueued: 'task.queued',
  taskStarted: 'task.started',
  taskCompleted: 'task.completed',
  taskCancelled: 'task.cancelled',
  engineIterationRequested: 'engine.iteration_requested',
  jobsTrain: 'jobs.train',
  /** One trial of an architecture cycle's study (ADR 0025); answered by study.trial.finished / training.failed. */
  jobsArchitecture: 'jobs.architecture',
  /** A trial of an architecture study ran to its end (ADR 0025): the trial job's answer and the study's progress. */
  studyTrialFinished: 'study.trial.finished',
  jobsEvaluate: 'jobs.evaluate',
} as const;

export type Subject = (typeof SUBJECTS)[keyof typeof SUBJECTS];

/**
 * Core NATS request/reply subjects (not in any stream: an answer is only useful to the caller that
 * waits for it, and the caller retries). `embeddings.compute` is served by the Python embedder
 * (apps/trainer-worker, trainer_worker.embedding) for the learner's indexer and the gateway's
 * search (ADR 0018).
 */
export const REQUESTS = {
  embeddingsCompute: 'embeddings.compute',
  /** Topic slices of a model's learnings from their stored embeddings, at snapshot time (ADR 0020). */
  embeddingsCluster: 'embeddings.cluster',
} as const;

/**
 * Core NATS subjects published fire-and-forget (not in any stream): state that is only worth its
 * latest value and is sent again every few seconds. `workers.heartbeat` (ADR 0023): each Python
 * worker's capacity and memory every GENESIS_WORKER_HEARTBEAT_S, read by the engine's scheduler (ADR 0024) through WorkerFleet; a
 * worker silent for three intervals is gone. Schema: schemas/messages/workers.heartbeat.v1.schema.json.
 */
export const BROADCASTS = {
  workersHeartbeat: 'workers.heartbeat',
} as const;

export const STREAMS = {
  events: 'GENESIS_EVENTS',
  /** Raw captures, until the learner has stored them cleaned (work queue; ADR 0012). */
  captures: 'GENESIS_CAPTURES',
  jobs: 'GENESIS_JOBS',
  dlq: 'GENESIS_DLQ',
  /** Dead letters of raw captures, cleaned, kept briefly (GENESIS_CAPTURE_DLQ_MAX_AGE; ADR 0019). */
  captureDlq: 'GENESIS_CAPTURE_DLQ',
} as const;

/** Subject filters of each stream. A new event family needs a line here and a provisioning run. */
export const STREAM_SUBJECTS = {
  [STREAMS.events]: [
    // Not learning.captured: a raw capture may hold secrets, so it lives in GENESIS_CAPTURES only until
    // the learner has stored it cleaned (ADR 0012); learning.stored / learning.rejected are the record.
    'learning.stored',
    'learning.rejected',
    // Rescan / forget jobs (ADR 0017): ids and counts, never a learning's text.
    'learning.rescan_requested',
    'learning.rescanned',
    'feedback.>',
    'cycle.>',
    'threshold.>',
    'training.>',
    'model.>',
    'evaluation.>',
    'rollback.>',
    'task.>',
    'engine.>',
    // an architecture study's trials as they finish (ADR 0025)
    'study.>',
  ],
  [STREAMS.captures]: ['learning.captured'],
  [STREAMS.jobs]: ['jobs.>'],
  // `dlq.<consumer>`: one token after `dlq` (durable names have no dots), so that the capture dead
  // letters' `dlq.capture.<consumer>` can live in a stream of their own (ADR 0019).
  [STREAMS.dlq]: ['dlq.*'],
  [STREAMS.captureDlq]: ['dlq.capture.>'],
} as const;

/** Does the NATS subject filter `filter` (with `*` and `>` wildcards) match `subject`? */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** The stream that stores `subject`, if any. */
export function streamOf(subject: string): string | undefined {
  return Object.entries(STREAM_SUBJECTS).find(([, filters]) =>
    (filters as readonly string[]).some((f) => subjectMatches(f, subject)),
  )?.[0];
}

/** Durable consumer names follow `<app>-<subject-with-dashes>`. */
export function durableName(app: string, subject: string): string {
  return `${app}-${subject.replace(/[.>*]+/g, '-').replace(/-+$/, '')}`;
}

/**
 * Where a message that can never be processed by `consumer`, reading `stream`, ends up. A raw capture's
 * dead letter (cleaned, but what the learner could not store) goes to GENESIS_CAPTURE_DLQ, kept days
 * instead of GENESIS_DLQ's 30 (ADR 0019); every other consumer's to GENESIS_DLQ. `dlq.>` still shows
 * them all on the bus.
 */
export function dlqSubject(consumer: string, stream: string = STREAMS.events): string {
  return stream === STREAMS.captures ? `dlq.capture.${consumer}` : `dlq.${consumer}`;
}

/** The consumer a dead letter's subject names (`dlq.<consumer>` or `dlq.capture.<consumer>`). */
export function dlqConsumerOf(subject: string): string {
  return subject.replace(/^dlq\.(capture\.)?/, '');
}
