import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { STREAMS, dlqSubject } from '@genesis/contracts';
import { CONSUMER_CONFIGS, NatsClient } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { register } from './cycle-metrics';

const DLQ_PREFIX = dlqSubject('');

/**
 * Dead letters waiting for an operator, per consumer (GENESIS_DLQ holds `dlq.<consumer>`), read
 * from the stream at scrape time: the stream is the truth, whichever process wrote the letters,
 * and the count drops when someone purges or replays them. Every provisioned consumer is
 * exported, at 0 when it has none, so "no dead letters" is a value and not a missing series.
 */
@Injectable()
export class DlqMetrics {
  private readonly log = new Log('monitor', 'dlq-metrics');
  private last = new Map<string, number>();

  constructor(@Inject(NatsClient) private readonly nats: NatsClient) {
    const read = () => this.read();
    register(
      new Gauge({
        name: 'genesis_dlq_messages',
        help: 'Messages in the dead-letter stream (GENESIS_DLQ), by the consumer that gave up on them',
        labelNames: ['consumer'],
        registers: [],
        async collect() {
          const counts = await read();
          this.reset();
          for (const [consumer, n] of counts) this.set({ consumer }, n);
        },
      }),
    );
  }

  /** On a failed read (NATS unreachable) the last counts stand: a scrape must not fail for it. */
  private async read(): Promise<Map<string, number>> {
    try {
      const info = await this.nats.jsm.streams.info(STREAMS.dlq, { subjects_filter: `${DLQ_PREFIX}>` });
      const counts = new Map<string, number>(CONSUMER_CONFIGS.map((c) => [c.config.durable_name, 0]));
      for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
        counts.set(subject.slice(DLQ_PREFIX.length), n);
      }
      this.last = counts;
    } catch (err) {
      this.log.warn('could not read the DLQ stream; exporting the last counts', {
        error: (err as Error).message,
      });
    }
    return this.last;
  }
}
