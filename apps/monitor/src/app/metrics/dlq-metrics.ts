import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { MsgRequest } from '@nats-io/jetstream';
import { STREAMS, dlqSubject } from '@genesis/contracts';
import { CONSUMER_CONFIGS, NatsClient } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { register } from './cycle-metrics';
import { CYCLELESS_SUBJECTS, lettersByCycle, newestCycles, type CycleLetters } from './dlq-cycles';

/** Consumers whose dead letters are never read one by one (their events belong to no cycle). */
const CYCLELESS_CONSUMERS = new Set(
  CONSUMER_CONFIGS.filter((c) => CYCLELESS_SUBJECTS.includes(c.config.filter_subject ?? '')).map(
    (c) => c.config.durable_name,
  ),
);

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
  private lastCycles: CycleLetters[] = [];

  constructor(@Inject(NatsClient) private readonly nats: NatsClient) {
    const read = () => this.read();
    const readCycles = () => this.readCycles();
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
    // A dead letter on a cycle's path leaves that cycle waiting for an event that never comes: the
    // alert must say which cycle. One series per cycle with letters (the newest MAX_CYCLES), gone
    // when its letters are purged; GenesisCycleMessageDeadLettered reads it.
    register(
      new Gauge({
        name: 'genesis_dlq_cycle_messages',
        help: 'Dead letters in GENESIS_DLQ that belong to an improvement cycle, by consumer, model and cycle',
        labelNames: ['consumer', 'model_id', 'cycle_id'],
        registers: [],
        async collect() {
          const letters = await readCycles();
          this.reset();
          for (const l of letters)
            this.set({ consumer: l.consumer, model_id: l.modelId, cycle_id: l.cycleId }, l.count);
        },
      }),
    );
  }

  /** Reads the letters of consumers that have some and may belong to a cycle; the last answer on failure. */
  private async readCycles(): Promise<CycleLetters[]> {
    const counts = await this.read();
    try {
      const all: CycleLetters[] = [];
      for (const [consumer, n] of counts) {
        if (n === 0 || CYCLELESS_CONSUMERS.has(consumer)) continue;
        const subject = dlqSubject(consumer);
        all.push(
          ...(await lettersByCycle(consumer, (seq) =>
            // STREAM.MSG.GET with next_by_subj: the first letter of this consumer at or after seq.
            this.nats.jsm.streams.getMessage(STREAMS.dlq, {
              seq,
              next_by_subj: subject,
            } as unknown as MsgRequest),
          )),
        );
      }
      this.lastCycles = newestCycles(all);
    } catch (err) {
      this.log.warn('could not read the dead letters of cycles; exporting the last ones', {
        error: (err as Error).message,
      });
    }
    return this.lastCycles;
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
