import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The vector index lag (ADR 0018): which kept vectors have reached the index.
 *   - learning_vectors.indexed_at: when the learner (or `genesis vectors rebuild`) last wrote the
 *     vector to the index; NULL while it is only in Postgres (embedded, but the index was down).
 *     An accepted learning with no vector, or with a vector not indexed yet, is the lag
 *     (genesis_vector_index_lag, the learner's readiness).
 *   - a partial index on the accepted learnings by model and age, which the lag query walks.
 * Vectors kept before this migration were indexed when they were kept (the indexer wrote the
 * index right after the row), so they start as indexed at their embedding time.
 */
export class VectorIndexLag1764410000000 implements MigrationInterface {
  name = 'VectorIndexLag1764410000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE learning_vectors ADD COLUMN indexed_at timestamptz`);
    await q.query(`
      UPDATE learning_vectors v SET indexed_at = v.embedded_at
        FROM learnings l WHERE l.id = v.learning_id AND l.status = 'accepted'`);
    await q.query(
      `CREATE INDEX learnings_accepted_model_stored_ix ON learnings (model_id, stored_at) WHERE status = 'accepted'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX learnings_accepted_model_stored_ix`);
    await q.query(`ALTER TABLE learning_vectors DROP COLUMN indexed_at`);
  }
}
