import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { MsgRequest } from '@nats-io/jetstream';
import { STREAMS, STREAM_SUBJECTS, dlqConsumerOf, dlqSubject, streamOf } from '@genesis/contracts';
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

/** Where each provisioned consumer's dead letters go: GENESIS_DLQ, or GENESIS_CAPTURE_DLQ (ADR 0019). */
const LETTERS_OF = CONSUMER_CONFIGS.map(({ stream, config }) => {
  const subject = dlqSubject(config.durable_name, stream);
  return { consumer: config.durable_name, subject, stream: streamOf(subject)! };
});
const DEAD_LETTER_STREAMS = [STREAMS.dlq, STREAMS.captureDlq] as const;

/** A consumer's letters in one stream: its count, and where an operator finds them. */
export interface LetterCount {
  consumer: string;
  stream: string;
  subject: string;
  count: number;
}

@Injectable()
export class DlqMetrics {
  private readonly log = new Log('monitor', 'dlq-metrics');
  private last: LetterCount[] = [];
  private lastCycles: CycleLetters[] = [];

  constructor(@Inject(NatsClient) private readonly nats: NatsClient) {
    const read = () => this.read();
    const readCycles = () => this.readCycles();
    register(
      new Gauge({
        name: 'genesis_dlq_messages',
        help: 'Messages in the dead-letter streams (GENESIS_DLQ, GENESIS_CAPTURE_DLQ), by the consumer that gave up on them',
        labelNames: ['consumer', 'stream', 'subject'],
        registers: [],
        async collect() {
          const counts = await read();
          this.reset();
          for (const c of counts)
            this.set({ consumer: c.consumer, stream: c.stream, subject: c.subject }, c.count);
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
      for (const { consumer, stream, subject, count } of counts) {
        // A capture's letters (GENESIS_CAPTURE_DLQ) never belong to a cycle.
        if (count === 0 || stream !== STREAMS.dlq || CYCLELESS_CONSUMERS.has(consumer)) continue;
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
  private async read(): Promise<LetterCount[]> {
    try {
      const counts = new Map<string, LetterCount>(LETTERS_OF.map((l) => [l.subject, { ...l, count: 0 }]));
      for (const stream of DEAD_LETTER_STREAMS) {
        const info = await this.nats.jsm.streams.info(stream, {
          subjects_filter: STREAM_SUBJECTS[stream][0],
        });
        for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
          // A letter of a consumer no longer provisioned still counts, under the name its subject gives.
          const known = counts.get(subject) ?? {
            consumer: dlqConsumerOf(subject),
            stream,
            subject,
            count: 0,
          };
          counts.set(subject, { ...known, stream, count: n });
        }
      }
      this.last = [...counts.values()];
    } catch (err) {
      this.log.warn('could not read the dead-letter streams; exporting the last counts', {
        error: (err as Error).message,
      });
    }
    return this.last;
  }
}
