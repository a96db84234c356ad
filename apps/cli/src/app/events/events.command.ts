import type { EventEnvelope } from '@genesis/contracts';
import type { Context, Run } from '../command';
import { CliError, InterruptedError } from '../errors';
import { EXIT } from '../exit-codes';
import { UnreachableError } from '../http/api-client';
import { SseParser } from '../http/sse-parser';
import { sleep } from '../sleep';
import { formatEvent } from './events.format';

const DEFAULT_SINCE = '10m';

interface Ready {
  subject: string;
  start_sequence: number;
  backlog: number;
  heartbeat_ms: number;
}

/**
 * `genesis events`: GET /api/v1/events (Server-Sent Events). Without --follow it prints what the
 * stream holds since --since and ends when the server says it caught up; with --follow it runs
 * until Ctrl-C and reconnects after a drop, continuing after the last event it printed.
 */
export const run: Run = async (ctx, { values }) => {
  const follow = values['follow'] === true;
  const query = {
    subject: values['subject'] as string | undefined,
    since: (values['since'] as string | undefined) ?? (follow ? undefined : DEFAULT_SINCE),
  };
  let lastEventId = '';
  let connected = false;
  let failures = 0;
  for (;;) {
    try {
      await stream(ctx, query, follow, {
        lastEventId,
        onReady: (ready) => {
          if (!connected && follow) {
            ctx.out.note(
              `following ${ready.subject === '>' ? 'every event' : ready.subject} (Ctrl-C to stop)`,
            );
          }
          connected = true;
          failures = 0;
          // A reconnect before the first event continues from here too, not from "now" again.
          if (!lastEventId) lastEventId = String(ready.start_sequence - 1);
        },
        onEvent: (id) => (lastEventId = id),
      });
      return EXIT.ok; // caught up (without --follow)
    } catch (err) {
      if (err instanceof InterruptedError) return EXIT.ok; // Ctrl-C is how --follow ends
      // Refusals (bad filter, key, scope) are final, and so is a gateway that was never there;
      // a follower that lost its connection reconnects and continues after the last event.
      const lost = err instanceof StreamLost || err instanceof UnreachableError;
      if (!follow || !connected || !lost) throw err;
      const wait = Math.min(10_000, 500 * 2 ** failures++);
      ctx.out.note(
        `event stream lost (${(err as Error).message}); reconnecting in ${(wait / 1000).toFixed(1)}s`,
      );
      try {
        await sleep(wait, ctx.signal);
      } catch {
        return EXIT.ok;
      }
    }
  }
};

class StreamLost extends CliError {
  constructor(message: string) {
    super(message, EXIT.unreachable, { code: 'STREAM_LOST' });
  }
}

/** One connection: resolves once caught up (without --follow), otherwise ends by an error. */
async function stream(
  { api, out, signal }: Context,
  query: Record<string, string | undefined>,
  follow: boolean,
  on: { lastEventId: string; onReady: (r: Ready) => void; onEvent: (id: string) => void },
): Promise<void> {
  const { lastEventId } = on;
  const connection = new AbortController();
  const res = await api.open('/api/v1/events', {
    query,
    headers: lastEventId ? { 'last-event-id': lastEventId } : {},
    signal: connection.signal,
  });
  // No byte (not even a heartbeat) for three heartbeat periods: the connection is dead.
  let idleLimit = 45_000;
  let idle = setTimeout(() => connection.abort(), idleLimit);
  const parser = new SseParser();
  parser.lastEventId = lastEventId;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(), idleLimit);
      for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) {
        if (event.event === 'ready') {
          const ready = JSON.parse(event.data) as Ready;
          idleLimit = Math.max(3 * ready.heartbeat_ms, 5000);
          on.onReady(ready);
        } else if (event.event === 'caught_up') {
          if (!follow) return;
        } else if (event.event === 'message') {
          const envelope = parseEnvelope(event.data);
          if (envelope && out.json) out.data(envelope);
          else if (envelope) out.line(formatEvent(envelope));
          on.onEvent(event.lastEventId);
        }
      }
    }
    throw new StreamLost('the gateway closed the event stream');
  } catch (err) {
    if (signal.aborted) throw new InterruptedError();
    if (err instanceof CliError) throw err;
    if (connection.signal.aborted) throw new StreamLost('no heartbeat from the gateway');
    throw new StreamLost((err as Error).message);
  } finally {
    clearTimeout(idle);
    connection.abort();
  }
}

function parseEnvelope(data: string): EventEnvelope<unknown> | undefined {
  try {
    const value = JSON.parse(data) as EventEnvelope<unknown>;
    return value && typeof value === 'object' && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
