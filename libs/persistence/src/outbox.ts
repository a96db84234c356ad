import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '@genesis/contracts';
import type { EventPublisher } from '@genesis/messaging';
import { counter, gauge, type Log } from '@genesis/observability';

const encoder = new TextEncoder();
const relayed = counter('genesis_outbox_published_total', 'Outbox events published', ['subject']);
const pendingGauge = gauge('genesis_outbox_pending', 'Outbox events of this service not yet published');

/** Records an event in the caller's transaction; it is published once that transaction commits. */
export async function enqueueEvent(
  manager: EntityManager,
  subject: string,
  envelope: EventEnvelope<unknown>,
): Promise<void> {
  await manager.query(
    `INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING`,
    [envelope.id, subject, JSON.stringify(envelope)],
  );
}

export interface PendingEvent {
  subject: string;
  envelope: EventEnvelope<unknown>;
}

/** An outbox row whose transaction has committed, as `Outbox.publishCommitted` publishes it. */
export interface CommittedEvent {
  /** The outbox row's id. */
  id: string;
  event_id: string;
  subject: string;
  payload: string;
}

/**
 * Events as one JSON array for `json_to_recordset(…) AS e(event_id uuid, subject text, payload json,
 * key text)`: one parameter, whatever the count (a text[] parameter per column cost the client
 * an escaping pass over every payload), each envelope serialised once (the `json` column keeps its
 * text as is, and the same text is what gets published). `key` lets a statement join an event to
 * the row it belongs to.
 */
export function outboxRecordset(events: (PendingEvent & { key?: string })[]): {
  json: string;
  byEventId: Map<string, Omit<CommittedEvent, 'id'>>;
} {
  const byEventId = new Map<string, Omit<CommittedEvent, 'id'>>();
  const records = events.map(({ subject, envelope, key }) => {
    const payload = JSON.stringify(envelope);
    byEventId.set(envelope.id, { event_id: envelope.id, subject, payload });
    return `{"event_id":${JSON.stringify(envelope.id)},"subject":${JSON.stringify(subject)},"key":${JSON.stringify(key ?? null)},"payload":${payload}}`;
  });
  return { json: `[${records.join(',')}]`, byEventId };
}

/** The column list `outboxRecordset`'s JSON is read with: `json_to_recordset($n::json) AS ${OUTBOX_RECORD}`. */
export const OUTBOX_RECORD = 'e(event_id uuid, subject text, payload json, key text)';

/**
 * Records several events in the caller's transaction with one statement. Returns the rows written,
 * for `Outbox.publishCommitted` once the transaction has committed (or leave them to the relay).
 */
export async function enqueueEvents(
  manager: EntityManager,
  events: PendingEvent[],
): Promise<CommittedEvent[]> {
  if (events.length === 0) return [];
  const { json, byEventId } = outboxRecordset(events);
  const rows: { id: string; event_id: string }[] = await manager.query(
    `INSERT INTO outbox (event_id, subject, payload)
     SELECT e.event_id, e.subject, e.payload::text FROM json_to_recordset($1::json) AS ${OUTBOX_RECORD}
     ON CONFLICT (event_id) DO NOTHING RETURNING id, event_id`,
    [json],
  );
  return rows.map((r) => ({ id: r.id, ...byEventId.get(r.event_id)! }));
}

export interface OutboxRelayOptions {
  batchSize?: number;
  pollIntervalMs?: number;
  retentionHours?: number;
  /** Kicks within this many ms share one pass (a pass costs the same few round trips for 1 row or 500). */
  coalesceMs?: number;
  /**
   * Rows younger than this are left alone: their writer publishes them itself right after its
   * commit (`publishCommitted`), and the relay only picks up what that missed. 0: publish at once.
   */
  graceMs?: number;
}

/**
 * Publishes committed outbox rows in order of insertion. Rows are claimed with SKIP LOCKED (so
 * replicas share the work) and marked published in the same transaction after JetStream acked
 * them; a crash in between republishes them with the same Nats-Msg-Id, which JetStream dedups
 * and consumers ignore (they are idempotent).
 *
 * The outbox table is shared, but a relay publishes only the rows whose envelope `source` is its
 * own service: each service's NATS user may publish only the subjects that service produces
 * (ADR 0006), so an event must be written with `source` = the name of the service that writes it.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private pendingKick?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = true;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionHours: number;
  private readonly coalesceMs: number;
  private readonly graceMs: number;
  private lastCleanup = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly log: Log,
    /** The service whose events this relay publishes (envelope `source`). */
    private readonly source: string,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.retentionHours = options.retentionHours ?? 24;
    this.coalesceMs = options.coalesceMs ?? 5;
    this.graceMs = options.graceMs ?? 0;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.pass(), this.pollIntervalMs);
    this.pass();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.pendingKick);
    await this.running;
  }

  /** Asks for a publish pass soon (after a commit); passes never overlap. */
  kick(): void {
    if (this.stopped || this.pendingKick) return;
    this.pendingKick = setTimeout(() => {
      this.pendingKick = undefined;
      this.pass();
    }, this.coalesceMs);
  }

  private pass(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.pass();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch()) === this.batchSize) {
        // keep going while full batches come back
      }
      await this.cleanup();
    } catch (err) {
      this.log.warn('outbox relay pass failed; will retry', { error: (err as Error).message });
    }
  }

  /** One claimed batch; returns how many rows it published. */
  async publishBatch(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const rows: CommittedEvent[] = await m.query(
        `SELECT id, event_id, subject, payload FROM outbox
         WHERE published_at IS NULL AND ((payload::jsonb) ->> 'source') = $2
           AND created_at <= clock_timestamp() - make_interval(secs => $3::float8 / 1000)
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize, this.source, this.graceMs],
      );
      if (rows.length === 0) return 0;
      await Promise.all(rows.map((r) => this.publish(r)));
      await m.query(`UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])`, [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }

  /**
   * Publishes rows whose transaction has just committed, without waiting for a pass: a pass claims
   * the rows and reads them back first, a round trip per step. Whatever fails here stays pending
   * and a later pass publishes it (with `graceMs`, once the rows are that old); a row published twice
   * keeps its Nats-Msg-Id, so JetStream stores it once and consumers are idempotent anyway.
   */
  async publishCommitted(rows: CommittedEvent[]): Promise<void> {
    const published: string[] = [];
    let failure: Error | undefined;
    await Promise.all(
      rows.map(async (r) => {
        try {
          await this.publish(r);
          published.push(r.id);
        } catch (err) {
          failure = err as Error;
        }
      }),
    );
    if (failure) {
      this.log.warn('publishing committed events failed; the relay will retry them', {
        failed: rows.length - published.length,
        error: failure.message,
      });
    }
    if (published.length === 0) return;
    try {
      await this.dataSource.query(
        `UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL`,
        [published],
      );
    } catch (err) {
      this.log.warn('marking published events failed; the relay will publish them again (deduplicated)', {
        error: (err as Error).message,
      });
    }
  }

  private async publish(row: CommittedEvent): Promise<void> {
    await this.publisher.publishRaw(row.subject, encoder.encode(row.payload), row.event_id);
    relayed.inc({ subject: row.subject });
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    const [{ pending }] = await this.dataSource.query(
      `SELECT count(*)::int AS pending FROM outbox
       WHERE published_at IS NULL AND ((payload::jsonb) ->> 'source') = $1`,
      [this.source],
    );
    pendingGauge.set(pending);
    await this.dataSource.query(
      `DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1::int)`,
      [this.retentionHours],
    );
  }
}
