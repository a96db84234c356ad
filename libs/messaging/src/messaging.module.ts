import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Log } from '@genesis/observability';
import { NatsClient } from './nats-client';
import { EventPublisher } from './publisher';

export const NATS_OPTIONS = Symbol('NATS_OPTIONS');

export interface MessagingOptions {
  url: string;
  name: string;
  auth?: { user: string; password: string };
}

/** Provides the process's NATS connection and publisher; drains the connection on shutdown. */
@Global()
@Module({})
export class MessagingModule implements OnApplicationShutdown {
  constructor(@Inject(NatsClient) private readonly nats: NatsClient) {}

  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: NATS_OPTIONS, useValue: options },
        {
          provide: NatsClient,
          useFactory: () => NatsClient.connect({ ...options, log: new Log(options.name, 'nats') }),
        },
        {
          provide: EventPublisher,
          useFactory: (nats: NatsClient) => new EventPublisher(nats),
          inject: [NatsClient],
        },
      ],
      exports: [NatsClient, EventPublisher],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.nats.drain();
  }
}
