import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { STREAMS } from '@genesis/contracts';
import type { NatsClient } from '@genesis/messaging';
import type { StartPosition } from './event-filter';

/**
 * The stream sequence an event stream starts at. Ordered consumers are always created from a
 * sequence, never "new" or "from a time": when the client library recreates one (after a missed
 * heartbeat or a NATS reconnect) before the first message arrived, it restarts from its cursor,
 * which for those policies is 0 — replaying the whole stream to a client that asked for new events.
 */
export async function startSequence(
  nats: NatsClient,
  subject: string | undefined,
  start: StartPosition,
): Promise<number> {
  switch (start.kind) {
    case 'sequence':
      return start.sequence;
    case 'all':
      return 1;
    case 'new':
      return (await nats.jsm.streams.info(STREAMS.events)).state.last_seq + 1;
    case 'time': {
      // The server resolves a start time to a sequence when it creates a consumer: ask it with a
      // throw-away consumer, which reports that sequence - 1 as "delivered".
      const probe = await nats.jsm.consumers.add(STREAMS.events, {
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: start.time.toISOString(),
        ack_policy: AckPolicy.None,
        mem_storage: true,
        inactive_threshold: nanos(10_000),
        ...(subject ? { filter_subject: subject } : {}),
      });
      await nats.jsm.consumers.delete(STREAMS.events, probe.name).catch(() => undefined);
      return probe.delivered.stream_seq + 1;
    }
  }
}
