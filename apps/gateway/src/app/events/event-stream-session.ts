import type { ServerResponse } from 'node:http';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { Log } from '@genesis/observability';
import { sseComment, sseEvent } from './sse';

const log = new Log('gateway', 'events');
/** A client that has not read what we sent for this long is dropped (it would pin memory). */
const SLOW_CLIENT_MS = 30_000;

export interface SessionOptions {
  subject: string | undefined;
  startSequence: number;
  heartbeatMs: number;
  /** Gives the stream's slot back (EventStreams). */
  release: () => void;
}

/**
 * One open event stream: copies the consumer's messages to the response as Server-Sent Events and
 * cleans up (consumer deleted, slot released) however it ends — client gone, gateway shutting
 * down, a slow client, or a consumer error.
 */
export class EventStreamSession {
  private messages?: ConsumerMessages;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly consumer: Consumer,
    private readonly options: SessionOptions,
  ) {}

  async run(): Promise<void> {
    const { res, options } = this;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    });
    res.once('close', this.close);
    this.heartbeat = setInterval(() => res.write(sseComment('heartbeat')), options.heartbeatMs);

    const backlog = (await this.consumer.info(true)).num_pending;
    res.write('retry: 2000\n\n');
    const ready = {
      subject: options.subject ?? '>',
      start_sequence: options.startSequence,
      backlog,
      heartbeat_ms: options.heartbeatMs,
    };
    res.write(sseEvent({ event: 'ready', data: JSON.stringify(ready) }));
    let caughtUp = backlog === 0;
    if (caughtUp) res.write(sseEvent({ event: 'caught_up', data: '{}' }));

    try {
      this.messages = await this.consumer.consume({ max_messages: 100, expires: 10_000 });
      if (this.closed) {
        void this.messages.close().catch(() => undefined); // the client left while it was created
        return;
      }
      for await (const m of this.messages) {
        const written = res.write(sseEvent({ id: String(m.seq), data: envelopeJson(m) }));
        if (!caughtUp && m.info.pending === 0) {
          caughtUp = true;
          res.write(sseEvent({ event: 'caught_up', data: '{}' }));
        }
        if (!written && !(await drained(res, SLOW_CLIENT_MS))) {
          if (!this.closed)
            log.warn('dropping a slow event-stream client', { subject: options.subject ?? '>' });
          break;
        }
      }
    } catch (err) {
      if (!this.closed) log.warn('event stream failed', { error: err as Error });
    } finally {
      this.close();
    }
  }

  /** Idempotent; also what the gateway's shutdown calls for every open stream. */
  readonly close = (): void => {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.options.release();
    void this.messages?.close().catch(() => undefined);
    this.consumer.delete().catch(() => undefined); // the inactive threshold would remove it anyway
    if (!this.res.writableEnded) this.res.end();
  };
}

/** The envelope as one line of JSON (re-serialised, so a payload can never break the framing). */
function envelopeJson(m: JsMsg): string {
  try {
    return JSON.stringify(m.json());
  } catch {
    return JSON.stringify({ type: m.subject, undecodable: true, size: m.data.length });
  }
}

function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
