import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Objm, StorageType as ObjStorage } from '@nats-io/obj';
import { STREAMS, STREAM_SUBJECTS, SUBJECTS, durableName } from '@genesis/contracts';
import type { Log } from '@genesis/observability';
import type { NatsClient } from './nats-client';

const DAY_MS = 24 * 3600 * 1000;

/**
 * The streams. Only options nats-server 2.9 understands are used (Debian ships 2.9.10);
 * production durability settings (3 replicas, sync_interval) are server/Helm configuration.
 */
export const STREAM_CONFIGS: Array<Partial<StreamConfig> & { name: string; subjects: string[] }> = [
  {
    name: STREAMS.events,
    subjects: [...STREAM_SUBJECTS[STREAMS.events]],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(90 * DAY_MS),
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: 1,
  },
  {
    name: STREAMS.jobs,
    subjects: [...STREAM_SUBJECTS[STREAMS.jobs]],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: 1,
  },
  {
    name: STREAMS.dlq,
    subjects: [...STREAM_SUBJECTS[STREAMS.dlq]],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(30 * DAY_MS),
    duplicate_window: nanos(2 * 60 * 1000),
    num_replicas: 1,
  },
];

function consumer(app: string, subject: string, extra: Partial<ConsumerConfig> = {}) {
  const name = durableName(app, subject);
  return {
    stream: STREAMS.events as string,
    config: {
      durable_name: name,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: 8,
      max_ack_pending: 1000,
      ...extra,
    } as Partial<ConsumerConfig> & { durable_name: string },
  };
}

/** Every durable consumer of the system, in one place, so provisioning is one idempotent step. */
export const CONSUMER_CONFIGS = [
  consumer('learner', SUBJECTS.learningCaptured),
  // monitor: every event that can change a trigger decision or the status document (issue 3)
  consumer('monitor', SUBJECTS.learningStored),
  consumer('monitor', SUBJECTS.feedbackRecorded),
  consumer('monitor', SUBJECTS.cycleRequested),
  consumer('monitor', SUBJECTS.cycleFailed),
  consumer('monitor', SUBJECTS.modelDeployed),
  consumer('monitor', SUBJECTS.modelRejected),
  consumer('monitor', SUBJECTS.modelRolledBack),
  // trainer-bridge: opens training on a new cycle, follows the worker's reports (issue 4)
  consumer('trainer-bridge', SUBJECTS.thresholdReached),
  consumer('trainer-bridge', SUBJECTS.trainingProgress),
  consumer('trainer-bridge', SUBJECTS.trainingCompleted),
  consumer('trainer-bridge', SUBJECTS.trainingFailed),
  // trainer-worker (Python, issue 4): pulls the jobs.train work queue. A training outlives
  // ack_wait; the worker keeps its job with in-progress acks (every ack_wait/3) and a killed worker's
  // job comes back after 60 s. Few deliveries: each is a training run. Mirrored for the Python tests
  // in apps/trainer-worker/tests/topology.py.
  {
    ...consumer('trainer-worker', SUBJECTS.jobsTrain, {
      ack_wait: nanos(60_000),
      max_deliver: 5,
      max_ack_pending: 16,
    }),
    stream: STREAMS.jobs as string,
  },
  // evaluator: a trained candidate → two jobs.evaluate (candidate, champion) → model.evaluated (issue 5)
  consumer('evaluator', SUBJECTS.modelTrained),
  consumer('evaluator', SUBJECTS.evaluationCompleted),
  consumer('evaluator', SUBJECTS.evaluationFailed),
  // deployer: promotion or rejection of an evaluated candidate, and rollbacks (issue 5). A deployment
  // talks to a serving target that may be slow; the runner keeps the message with in-progress acks.
  consumer('deployer', SUBJECTS.modelEvaluated, { ack_wait: nanos(60_000) }),
  consumer('deployer', SUBJECTS.rollbackRequested, { ack_wait: nanos(60_000) }),
  // learner: embeds and indexes stored learnings, marks near-duplicates (ADR 0018). Unbounded
  // deliveries with the runner's backoff: an embedder or Weaviate outage delays indexing, it never
  // dead-letters a learning (a schema-invalid event still goes to the DLQ). The backlog is the
  // index lag (genesis_consumer_pending_messages{consumer="learner-learning-stored"}).
  consumer('learner', SUBJECTS.learningStored, {
    ack_wait: nanos(60_000),
    max_deliver: -1,
    max_ack_pending: 512,
  }),
  // trainer-worker: the jobs.evaluate work queue, same delivery policy as training.
  {
    ...consumer('trainer-worker', SUBJECTS.jobsEvaluate, {
      ack_wait: nanos(60_000),
      max_deliver: 5,
      max_ack_pending: 16,
    }),
    stream: STREAMS.jobs as string,
  },
];

/**
 * Object Store buckets: dataset snapshots, adapters, per-item evaluation results. Large production
 * artifacts may live in S3-compatible storage behind the same port later.
 */
export const ARTIFACTS_BUCKET = 'genesis-artifacts';
export const OBJECT_BUCKETS = [
  { name: ARTIFACTS_BUCKET, description: 'Genesis artifacts: snapshots, adapters, eval results' },
];

/** Creates or updates every stream, consumer and object store bucket. Safe to run any number of times. */
export async function provisionTopology(nats: NatsClient, log: Log): Promise<void> {
  const { jsm } = nats;
  for (const config of STREAM_CONFIGS) {
    const existing = await jsm.streams.info(config.name).catch(() => undefined);
    if (existing) {
      await jsm.streams.update(config.name, config);
      log.info('stream updated', { stream: config.name });
    } else {
      await jsm.streams.add(config);
      log.info('stream created', { stream: config.name });
    }
  }
  for (const { stream, config } of CONSUMER_CONFIGS) {
    const existing = await jsm.consumers.info(stream, config.durable_name).catch(() => undefined);
    if (existing) {
      await jsm.consumers.update(stream, config.durable_name, config);
      log.info('consumer updated', { stream, consumer: config.durable_name });
    } else {
      await jsm.consumers.add(stream, config);
      log.info('consumer created', { stream, consumer: config.durable_name });
    }
  }
  const objm = new Objm(nats.js);
  for (const bucket of OBJECT_BUCKETS) {
    // create() binds to an existing bucket of that name instead of failing.
    await objm.create(bucket.name, {
      description: bucket.description,
      storage: ObjStorage.File,
      replicas: 1,
    });
    log.info('object store ready', { bucket: bucket.name });
  }
}
