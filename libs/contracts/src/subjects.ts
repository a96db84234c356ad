/**
 * Event subjects and streams (ADR 0001). The five product events keep the exact names of the
 * brief so `nats sub 'model.>'` shows the loop as it happens.
 */
export const SUBJECTS = {
  learningCaptured: 'learning.captured',
  learningStored: 'learning.stored',
  learningRejected: 'learning.rejected',
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
  jobsTrain: 'jobs.train',
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
} as const;

export const STREAMS = {
  events: 'GENESIS_EVENTS',
  jobs: 'GENESIS_JOBS',
  dlq: 'GENESIS_DLQ',
} as const;

/** Subject filters of each stream. A new event family needs a line here and a provisioning run. */
export const STREAM_SUBJECTS = {
  [STREAMS.events]: [
    'learning.>',
    'feedback.>',
    'cycle.>',
    'threshold.>',
    'training.>',
    'model.>',
    'evaluation.>',
    'rollback.>',
  ],
  [STREAMS.jobs]: ['jobs.>'],
  [STREAMS.dlq]: ['dlq.>'],
} as const;

/** Durable consumer names follow `<app>-<subject-with-dashes>`. */
export function durableName(app: string, subject: string): string {
  return `${app}-${subject.replace(/[.>*]+/g, '-').replace(/-+$/, '')}`;
}

/** Where a message that can never be processed by `consumer` ends up. */
export function dlqSubject(consumer: string): string {
  return `dlq.${consumer}`;
}
