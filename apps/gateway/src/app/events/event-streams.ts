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
  /** Open streams per API key id: one key may not hold every slot (the others would get 503s). */
  private readonly perKey = new Map<string, number>();

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  /**
   * Reserves a slot for `keyId`, or refuses: 429 when this key holds its share already (its own
   * doing: it should close one), 503 when this gateway serves as many streams as it may.
   */
  admit(keyId: string): StreamSlot {
    const held = this.perKey.get(keyId) ?? 0;
    if (held >= this.config.eventsMaxStreamsPerKey) {
      throw new ProblemError(
        429,
        'TOO_MANY_EVENT_STREAMS_FOR_KEY',
        'Too many requests',
        `this API key already holds ${held} event streams, the most one key may; close one first`,
        {},
        { 'retry-after': '5' },
      );
    }
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
        if (!this.slots.delete(slot)) return;
        const left = (this.perKey.get(keyId) ?? 1) - 1;
        if (left > 0) this.perKey.set(keyId, left);
        else this.perKey.delete(keyId);
        open.set(this.slots.size);
      },
    };
    this.slots.add(slot);
    this.perKey.set(keyId, held + 1);
    open.set(this.slots.size);
    return slot;
  }

  beforeApplicationShutdown(): void {
    for (const slot of [...this.slots]) slot.close?.();
  }
}
