import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type MsgRequest,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import { Objm, StorageType as ObjStorage } from '@nats-io/obj';
import { STREAMS, STREAM_SUBJECTS, SUBJECTS, dlqSubject, durableName } from '@genesis/contracts';
import type { Log } from '@genesis/observability';
import type { NatsClient } from './nats-client';

const DAY_MS = 24 * 3600 * 1000;
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/** The monitor's reader of GENESIS_DLQ (every `dlq.<consumer>` subject). */
export const DEAD_LETTER_CONSUMER = 'monitor-dead-letters';

/** What an operator sets about the topology (read by `npm run provision`, libs/config). */
export interface TopologySettings {
  /** How long GENESIS_CAPTURE_DLQ keeps a capture's dead letter (GENESIS_CAPTURE_DLQ_MAX_AGE; ADR 0019). */
  captureDlqMaxAgeMs: number;
}

export const TOPOLOGY_DEFAULTS: TopologySettings = { captureDlqMaxAgeMs: 7 * DAY_MS };

export type StreamDeclaration = Partial<StreamConfig> & { name: string; subjects: string[] };

/**
 * The streams. Only options nats-server 2.9 understands are used (Debian ships 2.9.10);
 * production durability settings (3 replicas, sync_interval) are server/Helm configuration.
 * GENESIS_DLQ comes before GENESIS_CAPTURE_DLQ: on a bus provisioned before ADR 0019 it still takes
 * `dlq.>`, and must be narrowed to `dlq.*` before `dlq.capture.>` can have a stream of its own.
 */
export function streamConfigs(settings: TopologySettings = TOPOLOGY_DEFAULTS): StreamDeclaration[] {
  return [
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
    // Raw captures (ADR 0012): a work queue, so a capture is removed as soon as the learner acks it, i.e.
    // once its cleaned row is committed (or it was dead-lettered, redacted). max_age bounds how long raw
    // text can wait here if the learner is down: a capture not stored within 7 days is dropped.
    {
      name: STREAMS.captures,
      subjects: [...STREAM_SUBJECTS[STREAMS.captures]],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(7 * DAY_MS),
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
    // A capture's dead letter (ADR 0019): cleaned like a stored row before it is written, yet it is what a
    // stranger typed and nobody could store, so it is kept only as long as an operator needs to look at it.
    {
      name: STREAMS.captureDlq,
      subjects: [...STREAM_SUBJECTS[STREAMS.captureDlq]],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(settings.captureDlqMaxAgeMs),
      // NATS refuses a duplicate window longer than max_age.
      duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, settings.captureDlqMaxAgeMs)),
      num_replicas: 1,
    },
  ];
}

/** The streams with the default settings: what the permissions and the tests are derived from. */
export const STREAM_CONFIGS: StreamDeclaration[] = streamConfigs();

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
  { ...consumer('learner', SUBJECTS.learningCaptured), stream: STREAMS.captures as string },
  // learner: rescan / forget jobs (ADR 0017). One job runs for minutes with in-progress acks; a killed
  // learner's job comes back after ack_wait and continues at its cursor, so a short ack_wait and many
  // deliveries (each one resumes, none starts over).
  consumer('learner', SUBJECTS.learningRescanRequested, { ack_wait: nanos(10_000), max_deliver: 50 }),
  // monitor: every event that can change a trigger decision or the status document
  consumer('monitor', SUBJECTS.learningStored),
  consumer('monitor', SUBJECTS.feedbackRecorded),
  consumer('monitor', SUBJECTS.cycleRequested),
  consumer('monitor', SUBJECTS.cycleFailed),
  consumer('monitor', SUBJECTS.modelDeployed),
  consumer('monitor', SUBJECTS.modelRejected),
  consumer('monitor', SUBJECTS.modelRolledBack),
  // monitor (the engine, ADR 0024): a queued task may start now; someone asked for an iteration
  consumer('monitor', SUBJECTS.taskQueued),
  consumer('monitor', SUBJECTS.engineIterationRequested),
  // trainer-bridge: opens training on a new cycle, follows the worker's reports
  consumer('trainer-bridge', SUBJECTS.thresholdReached),
  consumer('trainer-bridge', SUBJECTS.trainingProgress),
  consumer('trainer-bridge', SUBJECTS.trainingCompleted),
  consumer('trainer-bridge', SUBJECTS.trainingFailed),
  // trainer-bridge: each finished trial of an architecture study queues the next one (ADR 0025)
  consumer('trainer-bridge', SUBJECTS.studyTrialFinished),
  // trainer-bridge: rebuilds or deletes the snapshots a rescan / forget job changed (ADR 0017).
  consumer('trainer-bridge', SUBJECTS.learningRescanned, { max_deliver: 50 }),
  // trainer-worker (Python): pulls the jobs.train work queue. A training outlives
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
  // evaluator: a trained candidate → two jobs.evaluate (candidate, champion) → model.evaluated
  consumer('evaluator', SUBJECTS.modelTrained),
  consumer('evaluator', SUBJECTS.evaluationCompleted),
  consumer('evaluator', SUBJECTS.evaluationFailed),
  // deployer: promotion or rejection of an evaluated candidate, and rollbacks. A deployment
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
  // trainer-worker: one trial of an architecture cycle's study (ADR 0025), minutes with in-progress
  // acks; a killed worker's trial job comes back after 60 s and its trial is run again (the trial
  // is tagged with the job id in Optuna's storage, which keeps every finished trial).
  {
    ...consumer('trainer-worker', SUBJECTS.jobsArchitecture, {
      ack_wait: nanos(60_000),
      max_deliver: 5,
      max_ack_pending: 16,
    }),
    stream: STREAMS.jobs as string,
  },
  // learner: a rescan or forget job's changed learnings go through the indexer again (ADR 0018): a
  // forgotten or quarantined learning leaves the vector index even if it was down at the time.
  consumer('learner', SUBJECTS.learningRescanned, {
    ack_wait: nanos(60_000),
    max_deliver: -1,
    max_ack_pending: 16,
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
  // monitor: every dead letter that belongs to a cycle fails that cycle at once (ADR 0014). Never
  // given up on: a dead letter's only reader must not lose one while Postgres is down.
  {
    stream: STREAMS.dlq as string,
    config: {
      durable_name: DEAD_LETTER_CONSUMER,
      // Every subject of GENESIS_DLQ (capture dead letters never belong to a cycle: not read here).
      filter_subject: STREAM_SUBJECTS[STREAMS.dlq][0],
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 1000,
    } as Partial<ConsumerConfig> & { durable_name: string },
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

/**
 * Before ADR 0012, GENESIS_EVENTS held learning.captured (raw text, 90 days) and the learner's durable read
 * it there. Step one of moving them (only when the old layout is found): note where that durable stood and
 * delete it, so GENESIS_EVENTS can be narrowed and GENESIS_CAPTURES take the subject.
 */
async function detachCapturesFromEvents(
  nats: NatsClient,
  log: Log,
): Promise<{ fromSeq: number } | undefined> {
  const events = await nats.jsm.streams.info(STREAMS.events).catch(() => undefined);
  if (!events?.config.subjects.includes('learning.>')) return undefined;
  const durable = durableName('learner', SUBJECTS.learningCaptured);
  const old = await nats.jsm.consumers.info(STREAMS.events, durable).catch(() => undefined);
  if (old) await nats.jsm.consumers.delete(STREAMS.events, durable);
  const fromSeq = (old?.ack_floor.stream_seq ?? 0) + 1;
  log.info('moving learning.captured out of the events stream', {
    stream: STREAMS.events,
    from_seq: fromSeq,
  });
  return { fromSeq };
}

/**
 * Step two, once GENESIS_CAPTURES exists: the captures the old durable had not acked are published again
 * (same Nats-Msg-Id; the learner is idempotent by learning id), then every raw capture is purged from
 * GENESIS_EVENTS.
 */
async function moveCapturesFromEvents(nats: NatsClient, log: Log, fromSeq: number): Promise<void> {
  let moved = 0;
  for (let seq = fromSeq; ;) {
    // STREAM.MSG.GET with next_by_subj (nats-server >= 2.9); the client's type only lists seq/last_by_subj.
    const query = { next_by_subj: SUBJECTS.learningCaptured, seq } as unknown as MsgRequest;
    const msg = await nats.jsm.streams.getMessage(STREAMS.events, query).catch(() => null);
    if (!msg) break;
    const id = msg.header?.get('Nats-Msg-Id');
    await nats.js.publish(SUBJECTS.learningCaptured, msg.data, id ? { msgID: id } : {});
    moved++;
    seq = msg.seq + 1;
  }
  const { purged } = await nats.jsm.streams.purge(STREAMS.events, { filter: SUBJECTS.learningCaptured });
  log.info('raw captures moved out of the events stream', { moved, purged });
}

/**
 * Before ADR 0019 a capture's dead letter went to GENESIS_DLQ as `dlq.<consumer>`, for 30 days. Once
 * GENESIS_DLQ is narrowed to `dlq.*` and GENESIS_CAPTURE_DLQ exists, the letters younger than its max_age
 * are published again as `dlq.capture.<consumer>` (headers and Nats-Msg-Id kept), the older ones are
 * dropped, and all of them are purged from GENESIS_DLQ. A letter that a learner of the old release writes
 * during a rolling upgrade lands in GENESIS_DLQ the old way and is moved by the next provisioning. With
 * nothing to move this is one lookup per capture consumer.
 */
async function moveCaptureDeadLetters(nats: NatsClient, log: Log, settings: TopologySettings): Promise<void> {
  for (const { stream, config } of CONSUMER_CONFIGS) {
    if (stream !== STREAMS.captures) continue;
    const old = dlqSubject(config.durable_name);
    const target = dlqSubject(config.durable_name, stream);
    let moved = 0;
    let expired = 0;
    for (let seq = 1; ;) {
      // STREAM.MSG.GET with next_by_subj, as in moveCapturesFromEvents.
      const query = { next_by_subj: old, seq } as unknown as MsgRequest;
      const msg = await nats.jsm.streams.getMessage(STREAMS.dlq, query).catch(() => null);
      if (!msg) break;
      seq = msg.seq + 1;
      if (Date.now() - msg.time.getTime() >= settings.captureDlqMaxAgeMs) {
        expired++;
        continue;
      }
      const hdrs = headers();
      for (const key of msg.header?.keys() ?? []) {
        for (const value of msg.header!.values(key)) hdrs.append(key, value);
      }
      await nats.js.publish(target, msg.data, { headers: hdrs });
      moved++;
    }
    if (moved + expired === 0) continue;
    const { purged } = await nats.jsm.streams.purge(STREAMS.dlq, { filter: old });
    log.info('capture dead letters moved out of GENESIS_DLQ', {
      from: old,
      to: target,
      moved,
      dropped_as_expired: expired,
      purged,
    });
  }
}

/**
 * Creates or updates every stream, consumer and object store bucket. Safe to run any number of times.
 * `settings` are the operator's (GENESIS_CAPTURE_DLQ_MAX_AGE); a later run with other settings updates
 * the streams to them.
 */
export async function provisionTopology(
  nats: NatsClient,
  log: Log,
  settings: TopologySettings = TOPOLOGY_DEFAULTS,
): Promise<void> {
  const { jsm } = nats;
  const captures = await detachCapturesFromEvents(nats, log);
  for (const config of streamConfigs(settings)) {
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
  if (captures) await moveCapturesFromEvents(nats, log, captures.fromSeq);
  await moveCaptureDeadLetters(nats, log, settings);
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
