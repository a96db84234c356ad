import { STREAMS, durableName, type EventEnvelope } from '@genesis/contracts';
import type { Log } from '@genesis/observability';
import { ConsumerRunner, type EventHandler } from './consumer-runner';
import type { NatsClient } from './nats-client';
import type { EventPublisher } from './publisher';

export interface EventConsumerSpec {
  subject: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handle: (event: EventEnvelope<any>) => Promise<void>;
  concurrency?: number;
}

/**
 * A service's durable consumers on GENESIS_EVENTS, one per subject, named `<app>-<subject>`:
 * started when the Nest application has booted and stopped before it shuts down (the lifecycle
 * hooks below, so a provider instance needs no wrapper). `afterEach` runs after every handled
 * event (e.g. kick the outbox relay so the events a handler wrote go out now, not at the next poll).
 */
export class EventConsumers {
  private readonly runners: ConsumerRunner[];

  constructor(
    nats: NatsClient,
    publisher: EventPublisher,
    log: Log,
    app: string,
    specs: EventConsumerSpec[],
    afterEach: () => void = () => undefined,
  ) {
    this.runners = specs.map(
      ({ subject, handle, concurrency = 4 }) =>
        new ConsumerRunner(nats, publisher, log, {
          stream: STREAMS.events,
          durable: durableName(app, subject),
          concurrency,
          handler: (async (event: EventEnvelope) => {
            await handle(event);
            afterEach();
          }) as EventHandler,
        }),
    );
  }

  async start(): Promise<void> {
    for (const r of this.runners) await r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }
}
