import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Semantic memory (ADR 0018).
 *   - learning_vectors: the embedding of every stored learning, with the model and version that
 *     made it: the source of truth every vector index is rebuilt from (`genesis vectors rebuild`).
 *     Deleting a learning deletes its vector (ON DELETE CASCADE); the indexer removes it from the
 *     index when the learning stops being accepted.
 *   - vector_index: the embedded (Postgres) adapter's index, normalised float32 vectors by model.
 *   - learnings.status gains `near_duplicate` (linked by duplicate_of to the accepted original it
 *     is semantically near): not accepted, so neither counted toward the learning threshold nor
 *     put in a training snapshot.
 *   - dataset_snapshots.semantic_exclusions: the learnings semantic decontamination left out
 *     (near a held-out item), with the item and the similarity.
 */
export class SemanticMemory1764300000000 implements MigrationInterface {
  name = 'SemanticMemory1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE learning_vectors (
        learning_id uuid PRIMARY KEY REFERENCES learnings (id) ON DELETE CASCADE,
        model_id text NOT NULL,
        embedding_model text NOT NULL,
        embedding_version text NOT NULL,
        dimensions int NOT NULL CHECK (dimensions > 0),
        vector bytea NOT NULL,
        near_duplicate_of uuid,
        similarity real,
        embedded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX learning_vectors_model_ix ON learning_vectors (model_id)`);
    await q.query(`
      CREATE TABLE vector_index (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        dimensions int NOT NULL CHECK (dimensions > 0),
        vector bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX vector_index_model_ix ON vector_index (model_id)`);
    // What semantic decontamination left out of a snapshot, and why.
    await q.query(`ALTER TABLE dataset_snapshots ADD COLUMN semantic_exclusions jsonb`);
    await q.query(`ALTER TABLE learnings DROP CONSTRAINT learnings_status_check`);
    await q.query(`ALTER TABLE learnings DROP CONSTRAINT learnings_check`);
    await q.query(`
      ALTER TABLE learnings ADD CONSTRAINT learnings_status_check
      CHECK (status IN ('accepted', 'duplicate', 'near_duplicate', 'quarantined', 'forgotten'))`);
    await q.query(`
      ALTER TABLE learnings ADD CONSTRAINT learnings_check
      CHECK ((status IN ('duplicate', 'near_duplicate')) = (duplicate_of IS NOT NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // A near-duplicate becomes accepted again: it was a distinct row the older schema would keep.
    await q.query(
      `UPDATE learnings SET status = 'accepted', duplicate_of = NULL WHERE status = 'near_duplicate'`,
    );
    await q.query(`ALTER TABLE learnings DROP CONSTRAINT learnings_check`);
    await q.query(`ALTER TABLE learnings DROP CONSTRAINT learnings_status_check`);
    await q.query(
      `ALTER TABLE learnings ADD CONSTRAINT learnings_status_check CHECK (status IN ('accepted', 'duplicate', 'quarantined', 'forgotten'))`,
    );
    await q.query(
      `ALTER TABLE learnings ADD CONSTRAINT learnings_check CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL))`,
    );
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN semantic_exclusions`);
    await q.query(`DROP TABLE vector_index`);
    await q.query(`DROP TABLE learning_vectors`);
  }
}
