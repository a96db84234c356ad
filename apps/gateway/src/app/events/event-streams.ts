import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { gauge } from '@genesis/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ProblemError } from '../problem/problem';

const open = gauge('genesis_gateway_event_streams', 'Open Server-Sent Events streams (GET /api/v1/events)');

/** One admitted stream: give it back when it ends; `close` is what a shutdown calls. */
export interface StreamSlot {
  release(): void;
  close?: () => void;
}

/**
 * The open event streams of this gateway: a bound on how many (each holds a JetStream consumer),
 * and a clean end for all of them before the HTTP server closes, which would otherwise wait for
 * these never-ending responses until its grace period runs out.
 */
@Injectable()
export class EventStreams implements BeforeApplicationShutdown {
  private readonly slots = new Set<StreamSlot>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /** Reserves a slot, or refuses with 503 when this gateway serves as many streams as it may. */
  admit(): StreamSlot {
    if (this.slots.size >= this.config.eventsMaxStreams) {
      throw new ProblemError(
        503,
        'TOO_MANY_EVENT_STREAMS',
        'Service unavailable',
        `this gateway already serves ${this.config.eventsMaxStreams} event streams; retry later`,
        {},
        { 'retry-after': '5' },
      );
    }
    const slot: StreamSlot = {
      release: () => {
        if (this.slots.delete(slot)) open.set(this.slots.size);
      },
    };
    this.slots.add(slot);
    open.set(this.slots.size);
    return slot;
  }

  beforeApplicationShutdown(): void {
    for (const slot of [...this.slots]) slot.close?.();
  }
}
