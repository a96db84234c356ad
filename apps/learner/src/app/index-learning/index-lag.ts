import type { DataSource } from 'typeorm';
import {
  gauge,
  knownModelIds,
  ReadinessDegraded,
  type Log,
  type ReadinessCheck,
} from '@genesis/observability';
import type { VectorIndex } from '@genesis/vectors';

const lagGauge = gauge(
  'genesis_vector_index_lag',
  'Accepted learnings not yet in the vector index (not embedded, or embedded but not indexed), per model',
  ['model_id'],
);
const failedGauge = gauge(
  'genesis_learnings_embedding_failed',
  'Accepted learnings the embedder refuses, kept out of the vector index and of its lag (learning_embedding_failures), per model',
  ['model_id'],
);
const oldestGauge = gauge(
  'genesis_vector_index_oldest_unindexed_seconds',
  'Age of the oldest accepted learning not yet in the vector index, per model (0: none)',
  ['model_id'],
);

export interface IndexLagSample {
  /** Accepted learnings not in the index yet, every model together. */
  lag: number;
  /** Age of the oldest of them, in seconds (0 when there is none). */
  oldestUnindexedSeconds: number;
  /** Accepted learnings that can never be embedded as they are (not lag: they would never drain). */
  embeddingFailed: number;
  byModel: Record<string, { lag: number; oldest_unindexed_seconds: number; embedding_failed: number }>;
  sampledAt: string;
}

/**
 * The index lag (ADR 0018), measured from Postgres, which knows both sides: an accepted learning
 * with text is lagging while it has no kept vector (the embedder has not answered yet) or its vector
 * has no `indexed_at` (the index was down when it was embedded). Learnings without text are never
 * embedded and so not counted, nor is a learning the embedder refuses (learning_embedding_failures:
 * it would never drain; counted in genesis_learnings_embedding_failed instead). A count over the accepted learnings (a partial index,
 * learnings_accepted_model_stored_ix) every GENESIS_INDEX_LAG_INTERVAL_MS, not per scrape.
 * Every known model's gauges are written, at 0 when it has no lag, so a series never goes stale.
 */
export class IndexLag {
  private timer?: NodeJS.Timeout;
  private failing = false;
  last?: IndexLagSample;

  constructor(
    private readonly db: DataSource,
    private readonly log: Log,
  ) {}

  async sample(): Promise<IndexLagSample> {
    const rows: { model_id: string; lag: number; oldest: number }[] = await this.db.query(
      `SELECT l.model_id, count(*)::int AS lag,
              extract(epoch FROM now() - min(l.stored_at))::float8 AS oldest
         FROM learnings l LEFT JOIN learning_vectors v ON v.learning_id = l.id
        WHERE l.status = 'accepted' AND v.indexed_at IS NULL
          AND (btrim(coalesce(l.context, '')) <> '' OR btrim(coalesce(l.correction, '')) <> '')
          AND NOT EXISTS (SELECT 1 FROM learning_embedding_failures f WHERE f.learning_id = l.id)
        GROUP BY l.model_id`,
    );
    const failed: { model_id: string; n: number }[] = await this.db.query(
      `SELECT f.model_id, count(*)::int AS n
         FROM learning_embedding_failures f JOIN learnings l ON l.id = f.learning_id
        WHERE l.status = 'accepted' GROUP BY f.model_id`,
    );
    const byModel: IndexLagSample['byModel'] = {};
    const zero = { lag: 0, oldest_unindexed_seconds: 0, embedding_failed: 0 };
    for (const model of knownModelIds()) byModel[model] = { ...zero };
    for (const r of rows)
      byModel[r.model_id] = {
        ...zero,
        lag: r.lag,
        oldest_unindexed_seconds: Math.max(0, Math.round(r.oldest)),
      };
    for (const f of failed) byModel[f.model_id] = { ...(byModel[f.model_id] ?? zero), embedding_failed: f.n };
    for (const [model, v] of Object.entries(byModel)) {
      lagGauge.set({ model_id: model }, v.lag);
      oldestGauge.set({ model_id: model }, v.oldest_unindexed_seconds);
      failedGauge.set({ model_id: model }, v.embedding_failed);
    }
    this.last = {
      lag: rows.reduce((n, r) => n + r.lag, 0),
      embeddingFailed: failed.reduce((n, f) => n + f.n, 0),
      oldestUnindexedSeconds: Math.max(0, ...Object.values(byModel).map((v) => v.oldest_unindexed_seconds)),
      byModel,
      sampledAt: new Date().toISOString(),
    };
    return this.last;
  }

  start(intervalMs: number): void {
    const tick = () =>
      this.sample().then(
        () => {
          if (this.failing) this.log.info('index lag measured again');
          this.failing = false;
        },
        (err: unknown) => {
          // Postgres down: its own readiness check says so; one warning, not one per tick.
          if (!this.failing) this.log.warn('cannot measure the index lag', { error: (err as Error).message });
          this.failing = true;
        },
      );
    void tick();
    this.timer = setInterval(() => void tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * The learner's readiness entry for the vector index: `optional`, so an unreachable index makes
 * readiness `degraded` (HTTP 200: capture goes on and must keep its traffic) with the reason and
 * the lag, never down. Attached by the indexing consumer once it has made its index.
 */
export class VectorIndexReadiness implements ReadinessCheck {
  readonly name = 'vector_index';
  readonly optional = true;
  private index?: VectorIndex;
  private lag?: IndexLag;

  attach(index: VectorIndex, lag: IndexLag): void {
    this.index = index;
    this.lag = lag;
  }

  async check(): Promise<Record<string, unknown>> {
    if (!this.index || !this.lag) return { store: 'starting' };
    const sample = this.lag.last;
    const details = {
      store: this.index.kind,
      lag: sample?.lag ?? null,
      oldest_unindexed_seconds: sample?.oldestUnindexedSeconds ?? null,
      embedding_failed: sample?.embeddingFailed ?? null,
    };
    try {
      await this.index.ping();
    } catch (err) {
      throw new ReadinessDegraded(
        `the ${this.index.kind} vector index is unreachable (${(err as Error).message}); capture goes on, indexing catches up when it is back`,
        details,
      );
    }
    return details;
  }
}
