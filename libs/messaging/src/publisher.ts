import type { PubAck } from '@nats-io/jetstream';
import type { EventEnvelope } from '@genesis/contracts';
import { counter } from '@genesis/observability';
import type { NatsClient } from './nats-client';

const encoder = new TextEncoder();
const published = counter('genesis_events_published_total', 'Events published to JetStream', [
  'subject',
  'outcome',
]);

/**
 * Publishes envelopes with `Nats-Msg-Id = envelope.id`, so a retried publish inside the stream's
 * duplicate window is stored once. Resolves only after JetStream acknowledged the write.
 */
export class EventPublisher {
  constructor(private readonly nats: NatsClient) {}

  async publish(subject: string, envelope: EventEnvelope<unknown>): Promise<PubAck> {
    return this.publishRaw(subject, encoder.encode(JSON.stringify(envelope)), envelope.id, {
      'Genesis-Correlation-Id': envelope.correlation_id,
    });
  }

  async publishRaw(
    subject: string,
    payload: Uint8Array,
    msgId: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<PubAck> {
    try {
      const ack = await this.nats.publisher.publish(subject, payload, {
        ...extraHeaders,
        'Nats-Msg-Id': msgId,
      });
      published.inc({ subject, outcome: ack.duplicate ? 'duplicate' : 'ok' });
      return ack;
    } catch (err) {
      published.inc({ subject, outcome: 'error' });
      throw err;
    }
  }
}
