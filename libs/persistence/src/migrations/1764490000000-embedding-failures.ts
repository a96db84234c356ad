import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Learnings the embedder refuses (ADR 0018, "Never-embeddable learnings"): one row per accepted
 * learning whose text the embedder will never take as it is (e.g. text that is blank to the
 * embedder although not to the learner), with its stable code and the embedder's reason. Such a
 * learning has no vector and never will: without this row it counted as vector index lag forever
 * (genesis_vector_index_lag, the learner's readiness). Written and cleared by the learner's indexer
 * (a later embedding that succeeds, after a rescan changed the text, deletes the row).
 */
export class EmbeddingFailures1764490000000 implements MigrationInterface {
  name = 'EmbeddingFailures1764490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE learning_embedding_failures (
        learning_id uuid PRIMARY KEY REFERENCES learnings (id) ON DELETE CASCADE,
        model_id text NOT NULL,
        code text NOT NULL,
        reason text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX learning_embedding_failures_model_ix ON learning_embedding_failures (model_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE learning_embedding_failures`);
  }
}
