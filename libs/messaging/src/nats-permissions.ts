import { STREAMS, consumedBy, dlqSubject, producedBy, type ServiceName } from '@genesis/contracts';
import { maxDeliveriesAdvisory } from './dlq';
import { RetentionPolicy } from '@nats-io/jetstream';
import { ARTIFACTS_BUCKET, CONSUMER_CONFIGS, STREAM_CONFIGS } from './topology';

/**
 * Who may do what on the bus (ADR 0006): one NATS user per process, each allowed exactly the
 * subjects its code uses. deploy/nats/auth.conf is rendered from this (`npm run nats:auth`), and a
 * spec fails when the two drift apart. The subjects each user publishes and reads come from the
 * subject catalogue (ADR 0026); a new consumer in topology.ts is picked up by its app's user.
 */
export interface NatsUserSpec {
  user: string;
  /** One line for the comment above the user in auth.conf. */
  role: string;
  /** Event and job subjects it publishes (JetStream publishes; the ack comes back on its inbox). */
  publishes: readonly string[];
  /** The artifact bucket (JetStream Object Store): none, read (get/info), or read-write. */
  artifacts: 'none' | 'read' | 'read-write';
  /**
   * Its consumer runner copies poison messages to `dlq.<consumer>` (the TypeScript services), or to
   * `dlq.capture.<consumer>` for a consumer of raw captures (ADR 0019).
   */
  deadLetters: boolean;
  /** Streams whose info (message counts, bytes) it reads, e.g. for metrics. */
  streamInfo?: readonly string[];
  /** Streams whose messages it reads by sequence or subject (STREAM.MSG.GET), e.g. for metrics. */
  streamMessages?: readonly string[];
  /**
   * Reads GENESIS_EVENTS through short-lived ordered consumers of its own (the gateway's event
   * stream for `genesis events`): consumer create/info/next/delete on that stream, with every
   * provisioned durable denied, so it can never pull or delete another service's consumer.
   */
  eventReader?: boolean;
  /** Core fire-and-forget subjects it publishes, not stored in any stream (worker heartbeats). */
  broadcasts?: readonly string[];
  /** Core fire-and-forget subjects it subscribes to (the job scheduler reads worker heartbeats). */
  listens?: readonly string[];
  /** Core request/reply subjects it asks (the answer comes back on its own inbox). */
  requests?: readonly string[];
  /**
   * Core request/reply subjects it answers (a queue subscription), with `allow_responses` so it
   * may publish its answer to the requester's inbox and nowhere else.
   */
  answers?: readonly string[];
  /** Full access: streams, consumers, buckets, every subject. Provisioning, migrations, the nats CLI. */
  admin?: boolean;
}

/**
 * What a user publishes, asks, answers, broadcasts and listens to: its lines of the subject catalogue
 * (libs/contracts/src/catalogue.ts, ADR 0026), never restated here. Its durable consumers come from
 * topology.ts, which a spec holds to the catalogue's consumers.
 */
function fromCatalogue(
  user: ServiceName,
): Pick<NatsUserSpec, 'publishes' | 'requests' | 'answers' | 'broadcasts' | 'listens'> {
  return {
    publishes: producedBy(user, 'event', 'job'),
    requests: producedBy(user, 'request'),
    answers: consumedBy(user, 'request'),
    broadcasts: producedBy(user, 'broadcast'),
    listens: consumedBy(user, 'broadcast'),
  };
}

export const NATS_USERS: readonly NatsUserSpec[] = [
  {
    user: 'gateway',
    role: 'HTTP API: captures learnings, records feedback, asks for cycles and rollbacks',
    ...fromCatalogue('gateway'),
    artifacts: 'none',
    deadLetters: false,
    eventReader: true,
  },
  {
    user: 'learner',
    role: 'cleans and stores captured learnings, rescans and forgets stored ones',
    ...fromCatalogue('learner'),
    artifacts: 'none',
    deadLetters: true,
  },
  {
    user: 'monitor',
    role: 'planner and scheduler of improvement tasks, cycle deadlines, status and DLQ metrics',
    ...fromCatalogue('monitor'),
    artifacts: 'none',
    deadLetters: true,
    // genesis_dlq_messages counts the letters of both dead-letter streams
    streamInfo: [STREAMS.events, STREAMS.jobs, STREAMS.dlq, STREAMS.captureDlq],
    // genesis_dlq_cycle_messages: which cycle each dead letter belongs to (a capture's never does)
    streamMessages: [STREAMS.dlq],
  },
  {
    user: 'trainer-bridge',
    role: 'dataset snapshots (built, rebuilt after a rescan), training jobs, registers trained candidates',
    ...fromCatalogue('trainer-bridge'),
    artifacts: 'read-write',
    deadLetters: true,
  },
  {
    user: 'evaluator',
    role: 'frozen suites, evaluation jobs, the promotion decision',
    ...fromCatalogue('evaluator'),
    artifacts: 'read-write',
    deadLetters: true,
  },
  {
    user: 'deployer',
    role: 'moves the champion alias, updates the serving target, rollbacks',
    ...fromCatalogue('deployer'),
    artifacts: 'read',
    deadLetters: true,
  },
  {
    user: 'trainer-worker',
    role: 'Python GPU worker: pulls jobs, writes adapters and results, reports training/evaluation',
    ...fromCatalogue('trainer-worker'),
    artifacts: 'read-write',
    deadLetters: false,
  },
  {
    user: 'embedder',
    role: 'Python embedder: sentence embeddings (embeddings.compute) and topic slices (embeddings.cluster)',
    ...fromCatalogue('embedder'),
    artifacts: 'none',
    deadLetters: false,
  },
  {
    user: 'ops',
    role: 'provisioning (streams, consumers, buckets), migrations, the nats CLI',
    publishes: [],
    artifacts: 'read-write',
    deadLetters: false,
    admin: true,
  },
];

export type NatsUserName = (typeof NATS_USERS)[number]['user'];

/** The environment variable that holds a user's password on the nats-server side (auth.conf). */
export function natsPasswordVariable(user: string): string {
  return `NATS_${user.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_PASSWORD`;
}

/**
 * Replies (JetStream API answers, publish acks, pulled messages) go to `_INBOX.<user>.…`, so a
 * user can subscribe to its own replies and nobody else's. NatsClient and the Python worker set
 * this prefix whenever they log in as a user.
 */
export function natsInboxPrefix(user: string): string {
  return `_INBOX.${user}`;
}

/** Durable consumers that belong to `user` (named `<app>-<subject>`, see topology.ts). */
export function consumersOf(user: string): { stream: string; durable: string }[] {
  return CONSUMER_CONFIGS.filter((c) => c.config.durable_name.startsWith(`${user}-`)).map((c) => ({
    stream: c.stream,
    durable: c.config.durable_name,
  }));
}

export interface NatsPermissions {
  publish: string[];
  /** Refused even where `publish` allows (deny wins in nats-server). */
  publishDeny?: string[];
  subscribe: string[];
  /** May answer the requests it received (publish once to each request's reply subject). */
  allowResponses?: boolean;
}

/** The exact subjects a user may publish and subscribe to; undefined for the admin (everything). */
export function natsPermissions(spec: NatsUserSpec): NatsPermissions | undefined {
  if (spec.admin) return undefined;
  const publish = [
    // the JetStream account check that clients do on connect, and the readiness probe
    '$JS.API.INFO',
    ...spec.publishes,
    ...(spec.broadcasts ?? []),
    ...(spec.requests ?? []),
  ];
  const advisories: string[] = [];
  for (const { stream, durable } of consumersOf(spec.user)) {
    publish.push(
      `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
      // ack, nak, term, in-progress: replies to the delivered message's $JS.ACK subject
      `$JS.ACK.${stream}.${durable}.>`,
    );
    // A reader of the DLQ itself never dead-letters (nothing would read a letter about a letter).
    if (spec.deadLetters && stream !== STREAMS.dlq && stream !== STREAMS.captureDlq) {
      publish.push(
        dlqSubject(durable, stream),
        // read back a message JetStream gave up on (the max-deliveries advisory names its sequence)
        `$JS.API.STREAM.MSG.GET.${stream}`,
      );
      advisories.push(maxDeliveriesAdvisory(stream, durable));
      // a work queue keeps a message JetStream gave up on: the runner deletes it once dead-lettered
      if (STREAM_CONFIGS.find((c) => c.name === stream)?.retention === RetentionPolicy.Workqueue) {
        publish.push(`$JS.API.STREAM.MSG.DELETE.${stream}`);
      }
    }
  }
  for (const stream of spec.streamInfo ?? []) publish.push(`$JS.API.STREAM.INFO.${stream}`);
  for (const stream of spec.streamMessages ?? []) publish.push(`$JS.API.STREAM.MSG.GET.${stream}`);
  if (spec.artifacts !== 'none') publish.push(...objectStoreSubjects(ARTIFACTS_BUCKET, spec.artifacts));
  const subscribe = [
    `${natsInboxPrefix(spec.user)}.>`,
    ...advisories,
    ...(spec.answers ?? []),
    ...(spec.listens ?? []),
  ];
  const answers = spec.answers?.length ? { allowResponses: true } : {};
  if (!spec.eventReader) return { publish: [...new Set(publish)], subscribe, ...answers };
  const events = STREAMS.events;
  publish.push(
    `$JS.API.STREAM.INFO.${events}`,
    `$JS.API.CONSUMER.CREATE.${events}`,
    `$JS.API.CONSUMER.CREATE.${events}.>`,
    `$JS.API.CONSUMER.INFO.${events}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${events}.*`,
    `$JS.API.CONSUMER.DELETE.${events}.*`,
  );
  const durables = CONSUMER_CONFIGS.filter((c) => c.stream === events).map((c) => c.config.durable_name);
  const publishDeny = durables.flatMap((d) => [
    `$JS.API.CONSUMER.CREATE.${events}.${d}`,
    `$JS.API.CONSUMER.CREATE.${events}.${d}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${events}.${d}`,
    `$JS.API.CONSUMER.DELETE.${events}.${d}`,
  ]);
  return { publish: [...new Set(publish)], publishDeny, subscribe };
}

/**
 * What the Object Store clients (nats.js `@nats-io/obj`, nats-py) send for a bucket: stream info on
 * open, the last metadata message on info/get, an ordered push consumer (created and deleted by the
 * client, flow-controlled) to read chunks; writers publish chunks and metadata and purge the chunks
 * an overwrite replaced. Consumer create is allowed on the bucket's stream only. nats-py's get also
 * looks the stream up by subject ($JS.API.STREAM.NAMES: the names of all streams, nothing more).
 */
function objectStoreSubjects(bucket: string, access: 'read' | 'read-write'): string[] {
  const stream = `OBJ_${bucket}`;
  const read = [
    `$JS.API.STREAM.INFO.${stream}`,
    '$JS.API.STREAM.NAMES',
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
  if (access === 'read') return read;
  return [...read, `$O.${bucket}.>`, `$JS.API.STREAM.PURGE.${stream}`];
}
