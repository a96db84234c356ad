import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { dlqSubject, formatIssues, validateEnvelope, type EventEnvelope } from '@genesis/contracts';
import { counter, gauge, histogram, type Log } from '@genesis/observability';
import { PermanentError } from './errors';
import type { NatsClient } from './nats-client';
import type { EventPublisher } from './publisher';
import { dlqHeaders, envelopeRefs, maxDeliveriesAdvisory } from './dlq';

export interface HandlerContext {
  /** Delivery attempt, starting at 1. */
  deliveryCount: number;
  /** Tell JetStream the message is still being worked on (extends the ack deadline). */
  working(): void;
  log: Log;
}

export type EventHandler = (envelope: EventEnvelope, ctx: HandlerContext) => Promise<void>;

export interface ConsumerRunnerOptions {
  stream: string;
  durable: string;
  handler: EventHandler;
  /** Messages handled at once. */
  concurrency?: number;
  /** Redelivery delays after a failure, by attempt; the last repeats. */
  backoffMs?: number[];
  /**
   * What goes to the DLQ in place of the message's payload. A consumer of untrusted text (the learner)
   * cleans it here so that a dead letter never keeps what the service would not store (ADR 0012). Must
   * not throw for any input; default: the payload as delivered.
   */
  deadLetterPayload?: (data: Uint8Array) => Promise<Uint8Array>;
  /**
   * The same for a dead letter's reason, which goes to the DLQ headers and the log: a schema issue names
   * the path of the offending value, and a metadata key is part of that path. Must not throw.
   */
  deadLetterReason?: (reason: string) => Promise<string>;
  /**
   * The stream is a work queue: a message JetStream gave up on (max_deliver without any ack) stays in
   * it, so once dead-lettered it is deleted from the stream.
   */
  deleteGivenUp?: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const outcomes = counter('genesis_consumer_messages_total', 'Messages handled by consumer and outcome', [
  'consumer',
  'outcome',
]);
const handleSeconds = histogram('genesis_consumer_handle_seconds', 'Handler duration', ['consumer']);
const pending = gauge('genesis_consumer_pending_messages', 'Messages not yet delivered (consumer lag)', [
  'consumer',
]);
const ackPending = gauge('genesis_consumer_ack_pending_messages', 'Messages delivered, not yet acked', [
  'consumer',
]);
const redeliveries = counter('genesis_consumer_redeliveries_total', 'Deliveries after the first', [
  'consumer',
]);

/**
 * A durable pull consumer: explicit ack on success, a delayed nak with backoff on a transient
 * failure, in-progress acks during long work, and the DLQ (then term) for messages that can
 * never succeed or that exhausted max_deliver. The consumer itself is provisioned separately.
 */
export class ConsumerRunner {
  private messages?: ConsumerMessages;
  private advisories?: Subscription;
  private loop?: Promise<void>;
  private lagTimer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private maxDeliver = -1;
  private workingEveryMs = 10_000;
  private readonly log: Log;
  private readonly concurrency: number;
  private readonly backoffMs: number[];

  constructor(
    private readonly nats: NatsClient,
    private readonly publisher: EventPublisher,
    log: Log,
    private readonly options: ConsumerRunnerOptions,
  ) {
    this.log = log.child(`consumer:${options.durable}`);
    this.concurrency = options.concurrency ?? 16;
    this.backoffMs = options.backoffMs ?? [500, 1000, 2000, 5000, 10000, 30000];
  }

  async start(): Promise<void> {
    const info = await this.nats.jsm.consumers
      .info(this.options.stream, this.options.durable)
      .catch((err) => {
        throw new Error(
          `consumer ${this.options.stream}/${this.options.durable} is not provisioned (run \`npm run provision\`): ${(err as Error).message}`,
        );
      });
    this.maxDeliver = info.config.max_deliver ?? -1;
    this.workingEveryMs = Math.max(100, Math.floor((info.config.ack_wait ?? 30e9) / 1e6 / 3));
    const consumer = await this.nats.js.consumers.get(this.options.stream, this.options.durable);
    this.advisories = this.nats.connection.subscribe(
      maxDeliveriesAdvisory(this.options.stream, this.options.durable),
      { callback: (err, msg) => void (err ? undefined : this.onMaxDeliveries(msg)) },
    );
    this.messages = await consumer.consume({ max_messages: this.concurrency * 2 });
    void this.watchStatus(this.messages);
    this.loop = this.run(this.messages);
    this.lagTimer = setInterval(() => void this.sampleLag(), 10_000);
    this.lagTimer.unref();
    this.log.info('consuming', { max_deliver: this.maxDeliver, concurrency: this.concurrency });
  }

  /** Stops pulling, lets in-flight handlers finish, leaves the rest for redelivery. */
  async stop(): Promise<void> {
    if (!this.messages) return;
    clearInterval(this.lagTimer);
    this.advisories?.unsubscribe();
    await this.messages.close().catch(() => undefined);
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    this.messages = undefined;
    this.log.info('stopped');
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
      const task = this.handle(msg).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  /** Consumer lag for dashboards and alerts; a failed sample is simply skipped. */
  private async sampleLag(): Promise<void> {
    try {
      const info = await this.nats.jsm.consumers.info(this.options.stream, this.options.durable);
      pending.set({ consumer: this.options.durable }, info.num_pending);
      ackPending.set({ consumer: this.options.durable }, info.num_ack_pending);
    } catch {
      // NATS unreachable right now: the readiness check reports that
    }
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (
        s.type === 'heartbeats_missed' ||
        s.type === 'consumer_not_found' ||
        s.type === 'consumer_deleted'
      ) {
        this.log.warn(`consumer status: ${s.type}`);
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const consumer = this.options.durable;
    const deliveryCount = msg.info.deliveryCount;
    if (deliveryCount > 1) redeliveries.inc({ consumer });

    let envelope: EventEnvelope;
    try {
      envelope = this.decode(msg);
    } catch (err) {
      return this.deadLetter(msg, err as PermanentError);
    }

    const log = this.log.child(`consumer:${consumer}`);
    const started = process.hrtime.bigint();
    const keepAlive = setInterval(() => msg.working(), this.workingEveryMs);
    try {
      await this.options.handler(envelope, {
        deliveryCount,
        working: () => msg.working(),
        log,
      });
      msg.ack();
      outcomes.inc({ consumer, outcome: 'ack' });
    } catch (err) {
      if (err instanceof PermanentError) return this.deadLetter(msg, err);
      const exhausted = this.maxDeliver > 0 && deliveryCount >= this.maxDeliver;
      if (exhausted) {
        return this.deadLetter(
          msg,
          new PermanentError(
            'MAX_DELIVERIES_EXCEEDED',
            `gave up after ${deliveryCount} deliveries: ${errText(err)}`,
          ),
        );
      }
      const delay = this.backoffMs[Math.min(deliveryCount - 1, this.backoffMs.length - 1)] ?? 1000;
      this.log.warn('handler failed; will retry', {
        event_id: envelope.id,
        correlation_id: envelope.correlation_id,
        delivery: deliveryCount,
        retry_in_ms: delay,
        error: errText(err),
      });
      msg.nak(delay);
      outcomes.inc({ consumer, outcome: 'nak' });
    } finally {
      clearInterval(keepAlive);
      handleSeconds.observe({ consumer }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private decode(msg: JsMsg): EventEnvelope {
    let text: string;
    try {
      text = decoder.decode(msg.data);
    } catch {
      // Not replaced by U+FFFD: that text would be stored (and trained on) as if it had been sent.
      throw new PermanentError('INVALID_UTF8', 'payload is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      // V8's message quotes the payload around the error ("…", "abc" is not valid JSON): keep only where.
      const at = /position (\d+)/.exec((err as Error).message)?.[1];
      throw new PermanentError(
        'MALFORMED_JSON',
        `payload is not JSON${at ? ` (error at position ${at})` : ''}`,
      );
    }
    const result = validateEnvelope(parsed);
    if (!result.ok) throw new PermanentError('SCHEMA_INVALID', formatIssues(result.issues));
    if (result.value.type !== msg.subject) {
      throw new PermanentError(
        'SUBJECT_MISMATCH',
        `envelope type ${result.value.type} published on ${msg.subject}`,
      );
    }
    return result.value;
  }

  /**
   * JetStream gave up on a message that was never acked, nak'ed or termed: every delivery ended
   * with the process dying (or hanging past ack_wait) before it could report, so the handler's own
   * dead-lettering never ran. The server's advisory names the stream sequence; the message is
   * read back from the stream and dead-lettered with the same Nats-Msg-Id as `deadLetter` would
   * use, so every replica may do it and the DLQ still holds it once.
   */
  private async onMaxDeliveries(advisory: Msg): Promise<void> {
    const consumer = this.options.durable;
    let streamSeq = 0;
    try {
      const { stream_seq, deliveries } = advisory.json<{ stream_seq: number; deliveries: number }>();
      streamSeq = stream_seq;
      const stored = await this.nats.jsm.streams.getMessage(this.options.stream, { seq: stream_seq });
      if (!stored) return; // already gone from the stream (limits)
      await this.publisher.publishRaw(
        dlqSubject(consumer, this.options.stream),
        await this.deadLetterData(stored.data),
        `${consumer}:${stream_seq}`,
        dlqHeaders({
          code: 'MAX_DELIVERIES_EXCEEDED',
          reason:
            `delivered ${deliveries} times and never acknowledged: the consumer died or hung past ` +
            'ack_wait on every delivery (a message that crashes its handler?)',
          subject: stored.subject,
          stream: this.options.stream,
          sequence: stream_seq,
          consumer,
          deliveries,
          refs: envelopeRefs(stored.data),
        }),
      );
      if (this.options.deleteGivenUp) {
        await this.nats.jsm.streams.deleteMessage(this.options.stream, stream_seq, false).catch(() => false);
      }
      outcomes.inc({ consumer, outcome: 'dlq' });
      this.log.error('message dead-lettered after deliveries without any ack', {
        stream_seq,
        deliveries,
        subject: stored.subject,
      });
    } catch (err) {
      this.log.error('could not dead-letter a message JetStream gave up on', {
        stream_seq: streamSeq,
        error: errText(err),
      });
    }
  }

  private async deadLetterData(data: Uint8Array): Promise<Uint8Array> {
    return this.options.deadLetterPayload ? this.options.deadLetterPayload(data) : data;
  }

  /** DLQ first, then term: if the DLQ write fails the message is retried, never dropped. */
  private async deadLetter(msg: JsMsg, err: PermanentError): Promise<void> {
    const consumer = this.options.durable;
    const reason = this.options.deadLetterReason
      ? await this.options.deadLetterReason(err.message)
      : err.message;
    try {
      await this.publisher.publishRaw(
        dlqSubject(consumer, this.options.stream),
        await this.deadLetterData(msg.data),
        `${consumer}:${msg.info.streamSequence}`,
        dlqHeaders({
          code: err.code,
          reason,
          subject: msg.subject,
          stream: msg.info.stream,
          sequence: msg.info.streamSequence,
          consumer,
          deliveries: msg.info.deliveryCount,
          refs: envelopeRefs(msg.data),
        }),
      );
    } catch (publishErr) {
      this.log.error('could not write to the DLQ; will retry', { error: errText(publishErr) });
      msg.nak(this.backoffMs[this.backoffMs.length - 1]);
      return;
    }
    msg.term();
    outcomes.inc({ consumer, outcome: 'dlq' });
    this.log.warn('message dead-lettered', {
      code: err.code,
      reason,
      subject: msg.subject,
      stream_seq: msg.info.streamSequence,
    });
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
