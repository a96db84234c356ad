import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  STREAMS,
  SUBJECTS,
  durableName,
  type EventEnvelope,
  type LearningStoredV1,
} from '@genesis/contracts';
import { ConsumerRunner, EventPublisher, NatsClient } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { EmbeddingClient, createVectorIndex, type VectorIndex } from '@genesis/vectors';
import { LEARNER_CONFIG, type LearnerConfig } from '../learner.config';
import { MicroBatcher } from '../store-learning/micro-batcher';
import { IndexLearnings } from './index-learnings';

/**
 * learning.stored → embedded, kept, indexed, near-duplicates marked (ADR 0018). Off the capture
 * path: capture has committed and acknowledged before this runs; an embedder or index outage only
 * grows this consumer's backlog (the index lag), which drains when they are back.
 */
@Injectable()
export class StoredConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runner: ConsumerRunner;
  private readonly index: VectorIndex;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(DataSource) db: DataSource,
    @Inject(LEARNER_CONFIG) config: LearnerConfig,
  ) {
    const log = new Log('learner');
    const settings = config.vectors;
    this.index = createVectorIndex(settings, db);
    const work = new IndexLearnings(
      db,
      this.index,
      new EmbeddingClient(nats.connection, settings.embeddingTimeoutMs),
      settings.nearDuplicateSimilarity,
      log.child('index'),
    );
    // One embedding request per batch of stored learnings (the embedder encodes them together).
    const batcher = new MicroBatcher<string, void>(
      async (ids) => {
        await work.run(ids);
        return ids.map(() => undefined);
      },
      settings.indexBatchSize,
      50,
    );
    this.runner = new ConsumerRunner(nats, publisher, log, {
      stream: STREAMS.events,
      durable: durableName('learner', SUBJECTS.learningStored),
      concurrency: settings.indexBatchSize,
      handler: async (event) => {
        await batcher.submit((event as EventEnvelope<LearningStoredV1>).data.learning_id);
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // The index may be down at boot (Weaviate restarting): the consumer retries, capture goes on.
    await this.index.ensure().catch(() => undefined);
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    await this.index.close();
  }
}
