import { BROADCASTS, REQUESTS, SUBJECTS, durableName, streamOf } from './subjects';

/**
 * The processes that talk on the bus, by the name they log in with (their NATS user, ADR 0006).
 * `embedder` is the Python embedding service, `trainer-worker` the Python GPU worker.
 */
export const SERVICES = [
  'gateway',
  'learner',
  'monitor',
  'trainer-bridge',
  'evaluator',
  'deployer',
  'trainer-worker',
  'embedder',
] as const;

export type ServiceName = (typeof SERVICES)[number];

/**
 * How a subject travels: `event` and `job` are stored in a stream and read by durable consumers;
 * `request` is core request/reply (consumers answer); `broadcast` is core fire-and-forget
 * (consumers listen).
 */
export type Delivery = 'event' | 'job' | 'request' | 'broadcast';

export interface SubjectRoute {
  subject: string;
  delivery: Delivery;
  /** The services that publish it (ask it, for a request). */
  producers: readonly ServiceName[];
  /**
   * The services that read it: one durable consumer each, named `<service>-<subject>` (durableName),
   * for an event or a job; the answering queue group for a request; the listeners of a broadcast.
   */
  consumers: readonly ServiceName[];
  /** Why it exists, one line (the docs table). */
  purpose: string;
}

const route = (
  subject: string,
  delivery: Delivery,
  producers: readonly ServiceName[],
  consumers: readonly ServiceName[],
  purpose: string,
): SubjectRoute => ({ subject, delivery, producers, consumers, purpose });

/**
 * Who publishes and who consumes every subject, declared once (ADR 0026). The NATS permissions
 * (libs/messaging nats-permissions.ts → deploy/nats/auth.conf), the docs table (docs/subjects.md)
 * and the checks of each service's code are derived from it; topology.ts says how each durable
 * consumer is tuned and a spec holds it to the consumers named here.
 */
export const CATALOGUE: readonly SubjectRoute[] = [
  route(SUBJECTS.learningCaptured, 'event', ['gateway'], ['learner'], 'a learning accepted, raw (ADR 0012)'),
  route(
    SUBJECTS.learningStored,
    'event',
    ['learner'],
    // monitor: trigger counts; learner: its indexer embeds the stored learning (ADR 0018)
    ['monitor', 'learner'],
    'a learning cleaned and stored',
  ),
  route(SUBJECTS.learningRejected, 'event', ['learner'], [], 'a capture refused: duplicate or quarantined'),
  route(
    SUBJECTS.learningRescanRequested,
    'event',
    ['gateway'],
    ['learner'],
    'a rescan or forget job (ADR 0017)',
  ),
  route(
    SUBJECTS.learningRescanned,
    'event',
    ['learner'],
    // trainer-bridge: rebuilds the snapshots it changed; learner: reindexes the changed learnings
    ['trainer-bridge', 'learner'],
    'a rescan or forget job done',
  ),
  route(SUBJECTS.feedbackRecorded, 'event', ['gateway'], ['monitor'], 'a suggestion accepted or corrected'),
  route(SUBJECTS.cycleRequested, 'event', ['gateway'], ['monitor'], 'someone asked for a cycle'),
  route(
    SUBJECTS.cycleFailed,
    'event',
    // whoever advances the cycle when it fails (libs/cycles)
    ['monitor', 'trainer-bridge', 'evaluator', 'deployer'],
    ['monitor'],
    'a cycle ended in failure (ADR 0004)',
  ),
  route(SUBJECTS.thresholdReached, 'event', ['monitor'], ['trainer-bridge'], 'a cycle opened'),
  route(SUBJECTS.trainingProgress, 'event', ['trainer-worker'], ['trainer-bridge'], 'a training step'),
  route(SUBJECTS.trainingCompleted, 'event', ['trainer-worker'], ['trainer-bridge'], 'an adapter trained'),
  route(
    SUBJECTS.studyTrialFinished,
    'event',
    ['trainer-worker'],
    ['trainer-bridge'],
    'a trial of an architecture study ran to its end: its job’s answer and the study’s progress (ADR 0025)',
  ),
  route(SUBJECTS.trainingFailed, 'event', ['trainer-worker'], ['trainer-bridge'], 'a training job failed'),
  route(SUBJECTS.modelTrained, 'event', ['trainer-bridge'], ['evaluator'], 'a candidate registered'),
  route(
    SUBJECTS.evaluationCompleted,
    'event',
    ['trainer-worker'],
    ['evaluator'],
    'one model scored on a suite',
  ),
  route(SUBJECTS.evaluationFailed, 'event', ['trainer-worker'], ['evaluator'], 'an evaluation job failed'),
  route(SUBJECTS.modelEvaluated, 'event', ['evaluator'], ['deployer'], 'the gate’s decision (ADR 0015)'),
  route(SUBJECTS.modelDeployed, 'event', ['deployer'], ['monitor'], 'a new champion'),
  route(SUBJECTS.modelRejected, 'event', ['deployer'], ['monitor'], 'a candidate not promoted'),
  route(SUBJECTS.modelRolledBack, 'event', ['deployer'], ['monitor'], 'the champion alias moved back'),
  route(SUBJECTS.rollbackRequested, 'event', ['gateway'], ['deployer'], 'someone asked for a rollback'),
  route(
    SUBJECTS.taskQueued,
    'event',
    // the planner, and the API's custom tasks and manual triggers (ADR 0024)
    ['gateway', 'monitor'],
    ['monitor'],
    'an improvement task queued',
  ),
  route(SUBJECTS.taskStarted, 'event', ['gateway', 'monitor'], [], 'a task started its cycle'),
  route(
    SUBJECTS.taskCompleted,
    'event',
    // a manual trigger ends the task of the model's just-ended cycle
    ['gateway', 'monitor'],
    [],
    'a task ended with its cycle',
  ),
  route(SUBJECTS.taskCancelled, 'event', ['gateway'], [], 'a queued task cancelled'),
  route(
    SUBJECTS.engineIterationRequested,
    'event',
    ['gateway'],
    ['monitor'],
    'someone asked for a planning iteration',
  ),
  route(SUBJECTS.jobsTrain, 'job', ['trainer-bridge'], ['trainer-worker'], 'one LoRA training job'),
  route(
    SUBJECTS.jobsArchitecture,
    'job',
    ['trainer-bridge'],
    ['trainer-worker'],
    'an architecture study runner (ADR 0025)',
  ),
  route(SUBJECTS.jobsEvaluate, 'job', ['evaluator'], ['trainer-worker'], 'one model on one frozen suite'),
  route(
    REQUESTS.embeddingsCompute,
    'request',
    // gateway: a search query; learner: stored learnings; trainer-bridge: the suites (ADR 0018)
    ['gateway', 'learner', 'trainer-bridge'],
    ['embedder'],
    'sentence embeddings',
  ),
  route(
    REQUESTS.embeddingsCluster,
    'request',
    ['trainer-bridge'],
    ['embedder'],
    'a snapshot’s topic slices (ADR 0020)',
  ),
  route(
    BROADCASTS.workersHeartbeat,
    'broadcast',
    ['trainer-worker'],
    // the engine's scheduler (ADR 0024)
    ['monitor'],
    'a worker’s capacity and memory (ADR 0023)',
  ),
];

/** The catalogue's entry for `subject`; throws for a subject nobody declared. */
export function routeOf(subject: string): SubjectRoute {
  const found = CATALOGUE.find((r) => r.subject === subject);
  if (!found) throw new Error(`${subject} is not in the subject catalogue (libs/contracts/src/catalogue.ts)`);
  return found;
}

/** What `service` publishes, of the given deliveries, in catalogue order. */
export function producedBy(service: string, ...deliveries: Delivery[]): string[] {
  return CATALOGUE.filter(
    (r) => deliveries.includes(r.delivery) && r.producers.includes(service as ServiceName),
  ).map((r) => r.subject);
}

/** What `service` reads, of the given deliveries, in catalogue order. */
export function consumedBy(service: string, ...deliveries: Delivery[]): string[] {
  return CATALOGUE.filter(
    (r) => deliveries.includes(r.delivery) && r.consumers.includes(service as ServiceName),
  ).map((r) => r.subject);
}

/** Every durable consumer the catalogue implies: one per (consumer, stored subject). */
export function catalogueDurables(): {
  service: ServiceName;
  subject: string;
  stream: string;
  durable: string;
}[] {
  return CATALOGUE.filter((r) => r.delivery === 'event' || r.delivery === 'job').flatMap((r) =>
    r.consumers.map((service) => ({
      service,
      subject: r.subject,
      stream: streamOf(r.subject) ?? '',
      durable: durableName(service, r.subject),
    })),
  );
}
