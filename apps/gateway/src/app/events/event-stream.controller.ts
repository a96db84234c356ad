import { randomBytes } from 'node:crypto';
import { Controller, Get, Headers, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DeliverPolicy, type Consumer } from '@nats-io/jetstream';
import { STREAMS } from '@genesis/contracts';
import { NatsClient } from '@genesis/messaging';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { problems } from '../problem/problem';
import { startPosition, subjectFilter } from './event-filter';
import { EventStreamSession } from './event-stream-session';
import { EventStreams } from './event-streams';
import { startSequence } from './start-sequence';

/**
 * The bus, readable over HTTP: GENESIS_EVENTS as Server-Sent Events, for `genesis events` and any
 * EventSource. Each request gets its own ordered (ephemeral, in-memory, unacknowledged) JetStream
 * consumer with the subject filter and start position; it is deleted when the client goes away.
 *
 * Events: `ready` once (the stream is open), then every envelope as a default `message` event with
 * `id` = its stream sequence (so EventSource resumes with Last-Event-ID), and `caught_up` once the
 * backlog that existed at the start has been sent. Comment heartbeats keep idle connections open.
 */
@Controller('api/v1/events')
@UseGuards(AuthGuard, RateLimitGuard)
export class EventStreamController {
  constructor(
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(EventStreams) private readonly streams: EventStreams,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @RequireScope('status:read')
  async stream(
    @Query() q: Record<string, string | undefined>,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
    @Req() request: AuthedRequest,
  ): Promise<void> {
    // Everything that can fail with a problem+json answer happens before the first byte.
    const subject = subjectFilter(q['subject']);
    const start = startPosition(q['since'], lastEventId, new Date());
    const slot = this.streams.admit(request.apiKey!.id);
    let from: number;
    let consumer: Consumer;
    try {
      from = await startSequence(this.nats, subject, start);
      consumer = await this.nats.js.consumers.get(STREAMS.events, {
        name_prefix: `gateway_events_${randomBytes(6).toString('hex')}`,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: from,
        // Removed by the server when nobody pulls for this long (a gateway that died mid-stream).
        inactive_threshold: 60_000,
        ...(subject ? { filter_subjects: subject } : {}),
      });
    } catch (err) {
      slot.release();
      throw problems.unavailable(`cannot open a consumer on ${STREAMS.events}: ${(err as Error).message}`);
    }

    reply.hijack(); // from here on the response is ours: no problem+json any more, only the stream
    const session = new EventStreamSession(reply.raw, consumer, {
      subject,
      startSequence: from,
      heartbeatMs: this.config.eventsHeartbeatMs,
      release: slot.release,
    });
    slot.close = session.close;
    await session.run();
  }
}
