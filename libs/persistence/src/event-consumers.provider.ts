import type { FactoryProvider, Type } from '@nestjs/common';
import { EventConsumers, EventPublisher, NatsClient, type EventConsumerSpec } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { Outbox } from './outbox.service';

/**
 * The Nest provider of a service's event consumers: `specs` receives the handler instances (in the
 * order of `handlers`) and names a subject per handler method. The outbox relay is kicked after
 * every handled event, so what a handler wrote through the outbox goes out at once.
 */
export function eventConsumersProvider<H extends unknown[]>(
  app: string,
  handlers: { [K in keyof H]: Type<H[K]> },
  specs: (...handlers: H) => EventConsumerSpec[],
): FactoryProvider<EventConsumers> {
  return {
    provide: EventConsumers,
    inject: [NatsClient, EventPublisher, Outbox, ...handlers],
    useFactory: (nats: NatsClient, publisher: EventPublisher, outbox: Outbox, ...instances: unknown[]) =>
      new EventConsumers(nats, publisher, new Log(app), app, specs(...(instances as H)), () => outbox.kick()),
  };
}
