import Redis from 'ioredis';
import type { MsgRequest } from '@nats-io/jetstream';
import { STREAMS, streamOf, type EventEnvelope } from '@genesis/contracts';
import { NatsClient, provisionTopology, type TopologySettings } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { TestDatabase } from './database';
import { TestNatsServer } from './nats-server';
import { NatsUsers } from './nats-users';
import { waitFor } from './wait';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const TEST_WRITER_KEY = 'test-writer-key-0123456789abcdef';

export interface TestStackOptions {
  /**
   * Run nats-server with the real per-service users and permissions (deploy/nats/auth.conf):
   * the stack provisions as `ops`, and each process needs `natsEnv(<its user>)`.
   */
  natsUsers?: boolean;
  /** Provisioning settings other than the defaults (e.g. GENESIS_CAPTURE_DLQ_MAX_AGE). */
  topology?: TopologySettings;
}

/**
 * Real infrastructure for one test file: its own nats-server (provisioned), its own database
 * (migrated) on the shared Postgres, and a flushed Redis database index on the shared Redis.
 */
export class TestStack {
  private constructor(
    readonly nats: TestNatsServer,
    readonly db: TestDatabase,
    readonly redisUrl: string,
    readonly client: NatsClient,
    readonly natsUsers: NatsUsers | undefined,
  ) {}

  static async start({ natsUsers: withUsers = false, topology }: TestStackOptions = {}): Promise<TestStack> {
    const users = withUsers ? new NatsUsers() : undefined;
    const nats = users ? await users.startServer() : await TestNatsServer.start();
    // A failure past this point must not leave the nats-server behind (it would hold its ports).
    const db = await TestDatabase.create().catch(async (err: unknown) => {
      await nats.dispose();
      throw err;
    });
    const redisBase = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
    redisBase.pathname = `/${1 + Math.floor(Math.random() * 15)}`;
    const redis = new Redis(redisBase.toString());
    await redis.flushdb();
    await redis.quit();
    const log = new Log('test', undefined, 'warn');
    const auth = users?.auth('ops');
    const client = await NatsClient.connect({ url: nats.url, name: 'test', log, auth });
    await provisionTopology(client, log, topology);
    return new TestStack(nats, db, redisBase.toString(), client, users);
  }

  /** The environment a service needs to run against this stack. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NATS_URL: this.nats.url,
      DATABASE_URL: this.db.url,
      REDIS_URL: this.redisUrl,
      GENESIS_API_KEYS: JSON.stringify([
        { key: TEST_ADMIN_KEY, scopes: ['admin'] },
        { key: TEST_WRITER_KEY, scopes: ['learnings:write'] },
      ]),
      // Tests post learnings for many throwaway models: each registers itself (ADR 0022).
      GENESIS_MODEL_AUTO_REGISTER: 'true',
      ...extra,
    };
  }

  /** Waits until every outbox row is published (the events that follow the last database changes). */
  async outboxDrained(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      'the outbox to be published',
      async () => {
        const [{ n }] = await this.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
        );
        return n === 0;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /**
   * The newest event on `subject` once it satisfies `match`: events that follow a database change
   * go out through an outbox relay shortly after the commit, so a test that saw the change waits.
   */
  async lastEvent<T = unknown>(
    subject: string,
    match: (event: EventEnvelope<T>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<{ event: EventEnvelope<T>; seq: number }> {
    return waitFor(
      `the last ${subject} event`,
      async () => {
        const msg = await this.client.jsm.streams
          .getMessage(streamOf(subject) ?? STREAMS.events, { last_by_subj: subject })
          .catch(() => null);
        const event = msg?.json<EventEnvelope<T>>();
        return msg && event && match(event) ? { event, seq: msg.seq } : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** Every event on GENESIS_EVENTS with exactly this subject, oldest first (as `nats stream view` shows them). */
  async events<T = unknown>(subject: string): Promise<EventEnvelope<T>[]> {
    const stream = streamOf(subject) ?? STREAMS.events;
    const info = await this.client.jsm.streams.info(stream, { subjects_filter: subject });
    const total = info.state.subjects?.[subject] ?? 0;
    const out: EventEnvelope<T>[] = [];
    let seq = 0;
    for (let i = 0; i < total; i++) {
      // STREAM.MSG.GET with next_by_subj (nats-server ≥ 2.9); the client's type only lists seq/last_by_subj.
      const query = { next_by_subj: subject, seq: seq + 1 } as unknown as MsgRequest;
      const msg = await this.client.jsm.streams.getMessage(stream, query);
      if (!msg) break;
      seq = msg.seq;
      out.push(msg.json<EventEnvelope<T>>());
    }
    return out;
  }

  /** NATS_USER / NATS_PASSWORD for `user` when the stack runs with users; nothing otherwise. */
  natsEnv(user: string): Record<string, string> {
    return this.natsUsers?.env(user) ?? {};
  }

  /** Stops everything even when a step fails (then rethrows the first failure). */
  async dispose(): Promise<void> {
    await this.client.drain().catch(() => undefined);
    const results = await Promise.allSettled([this.db.dispose(), this.nats.dispose()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
