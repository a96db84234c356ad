import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { DataSource } from 'typeorm';
import { STREAMS } from '@genesis/contracts';
import { CycleTransitionError, transitionCycle } from '@genesis/cycles';
import { DEAD_LETTER_CONSUMER, NatsClient } from '@genesis/messaging';
import { counter, Log } from '@genesis/observability';
import { Outbox } from '@genesis/persistence';
import { Clock } from '../clock';
import { ThresholdChecker } from '../check-thresholds/threshold-checker';
import { deadLetterVerdict } from './dead-letter-failure';

const failedByDeadLetter = counter(
  'genesis_cycles_failed_by_dead_letter_total',
  'Improvement cycles failed because a message on their path was dead-lettered',
  ['model_id'],
);

/**
 * Reads GENESIS_DLQ (its own durable consumer, every `dlq.<consumer>` subject) and fails the
 * cycle a dead letter belongs to, at once, with the phase it was in and the letter's reason.
 * Idempotent: a cycle that already ended is left as it is, so a redelivered letter changes nothing.
 */
@Injectable()
export class DeadLetterCycles implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Log('monitor', 'dead-letters');
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(ThresholdChecker) private readonly checker: ThresholdChecker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const consumer = await this.nats.js.consumers.get(STREAMS.dlq, DEAD_LETTER_CONSUMER).catch((err) => {
      throw new Error(
        `consumer ${STREAMS.dlq}/${DEAD_LETTER_CONSUMER} is not provisioned (run \`npm run provision\`): ${(err as Error).message}`,
      );
    });
    this.messages = await consumer.consume({ max_messages: 64 });
    this.loop = this.run(this.messages);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    // One at a time: dead letters are rare, and each is one short transaction.
    for await (const msg of messages) await this.handle(msg);
  }

  private async handle(msg: JsMsg): Promise<void> {
    const verdict = deadLetterVerdict((name) => msg.headers?.get(name) || undefined, msg.data);
    if (!verdict.fail) {
      msg.ack();
      return;
    }
    try {
      const result = await this.dataSource.transaction((m) =>
        transitionCycle(m, verdict.cycleId, 'failed', {
          now: this.clock.now(),
          failure: verdict.failure,
          failedEventSource: 'monitor',
        }),
      );
      if (result.outcome === 'applied') {
        this.outbox.kick();
        failedByDeadLetter.inc({ model_id: result.cycle.model_id });
        this.log.warn('cycle failed: a message on its path was dead-lettered', {
          cycle_id: verdict.cycleId,
          model_id: result.cycle.model_id,
          phase: result.cycle.failed_phase,
          reason: verdict.failure.message,
        });
        await this.checker.refreshStatus(result.cycle.model_id);
      }
      msg.ack();
    } catch (err) {
      if (err instanceof CycleTransitionError) {
        // Already ended (or unknown here): the letter changes nothing for any cycle.
        msg.ack();
        return;
      }
      this.log.warn('could not fail the cycle of a dead letter; will retry', {
        cycle_id: verdict.cycleId,
        error: (err as Error).message,
      });
      msg.nak(5000);
    }
  }
}
