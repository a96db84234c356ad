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
  type LearningRescannedV1,
  type LearningStoredV1,
} from '@genesis/contracts';
import { ConsumerRunner, EventPublisher, NatsClient, PermanentError } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { EmbeddingClient, createVectorIndex, type VectorIndex } from '@genesis/vectors';
import { LEARNER_CONFIG, type LearnerConfig } from '../learner.config';
import { MicroBatcher } from '../store-learning/micro-batcher';
import { IndexLearnings, type EmbeddingFailure } from './index-learnings';
import { IndexLag, VectorIndexReadiness } from './index-lag';

/** Learnings handed to the indexer at once when a rescan or forget job's changes are replayed. */
const RESCAN_BATCH = 256;

/**
 * learning.stored → embedded, kept, indexed, near-duplicates marked (ADR 0018). Off the capture
 * path: capture has committed and acknowledged before this runs; an embedder or index outage only
 * grows this consumer's backlog (the index lag), which drains when they are back.
 *
 * learning.rescanned → the learnings a rescan or forget job changed go through the same indexer:
 * a forgotten or quarantined one leaves the index (whichever adapter: Weaviate too, not only the
 * Postgres rows), a redacted one is embedded again from its cleaned text. Durable like indexing
 * (unbounded redeliveries): an index that is down when a learning is forgotten still loses its vector.
 */
@Injectable()
export class StoredConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly runner: ConsumerRunner;
  private readonly rescanned: ConsumerRunner;
  private readonly index: VectorIndex;
  private readonly lag: IndexLag;

  constructor(
    @Inject(NatsClient) nats: NatsClient,
    @Inject(EventPublisher) publisher: EventPublisher,
    @Inject(DataSource) db: DataSource,
    @Inject(LEARNER_CONFIG) private readonly config: LearnerConfig,
    @Inject(VectorIndexReadiness) readiness: VectorIndexReadiness,
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
    // One embedding request per batch of stored learnings (the embedder encodes them together);
    // each learning gets back whether the embedder refused it.
    const batcher = new MicroBatcher<string, EmbeddingFailure | undefined>(
      async (ids) => {
        const refused = await work.run(ids);
        return ids.map((id) => refused.get(id));
      },
      settings.indexBatchSize,
      50,
    );
    this.runner = new ConsumerRunner(nats, publisher, log, {
      stream: STREAMS.events,
      durable: durableName('learner', SUBJECTS.learningStored),
      concurrency: settings.indexBatchSize,
      handler: async (event) => {
        const id = (event as EventEnvelope<LearningStoredV1>).data.learning_id;
        const refused = await batcher.submit(id);
        // Recorded as never embeddable (out of the index lag, in the learning's view); the dead
        // letter says why, and replaying it retries once the text or the embedder has changed.
        if (refused)
          throw new PermanentError(refused.code, `learning ${id} cannot be embedded: ${refused.reason}`);
      },
    });
    this.rescanned = new ConsumerRunner(nats, publisher, log, {
      stream: STREAMS.events,
      durable: durableName('learner', SUBJECTS.learningRescanned),
      concurrency: 1,
      handler: async (event) => {
        const rescanId = (event as EventEnvelope<LearningRescannedV1>).data.rescan_id;
        const rows: { learning_id: string }[] = await db.query(
          `SELECT learning_id FROM learning_rescan_changes WHERE rescan_id = $1 ORDER BY learning_id`,
          [rescanId],
        );
        // A learning the embedder refuses is recorded (learning_embedding_failures), not a reason
        // to dead-letter the whole job's changes.
        for (let i = 0; i < rows.length; i += RESCAN_BATCH)
          await work.run(rows.slice(i, i + RESCAN_BATCH).map((r) => r.learning_id));
      },
    });
    this.lag = new IndexLag(db, log.child('index-lag'));
    readiness.attach(this.index, this.lag);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The index may be down at boot (Weaviate restarting): the consumer retries, capture goes on.
    await this.index.ensure().catch(() => undefined);
    this.lag.start(this.config.indexLagIntervalMs);
    await this.runner.start();
    await this.rescanned.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.lag.stop();
    await this.rescanned.stop();
    await this.runner.stop();
    await this.index.close();
  }
}
