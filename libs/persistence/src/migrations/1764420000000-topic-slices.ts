import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Topic slices (ADR 0020).
 *   - learning_slices: each learning's slice in one clustering (its content-addressed version, e.g.
 *     `kmeans-silhouette.v1:<hash>`), with the slice's label (its top terms). Written by the
 *     trainer-bridge when it builds a snapshot, read by the evaluator; rows of a version never
 *     change. Deleting a learning deletes its slices.
 *   - dataset_snapshots.slicing: the snapshot's clustering (version, k, silhouette, slices and their
 *     sizes) or, with status `none`, why it has none.
 *   - evaluation_items.slice_id: the slice each in-domain item was judged in.
 */
export class TopicSlices1764420000000 implements MigrationInterface {
  name = 'TopicSlices1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE learning_slices (
        clustering_version text NOT NULL,
        learning_id uuid NOT NULL REFERENCES learnings (id) ON DELETE CASCADE,
        model_id text NOT NULL,
        slice_id text NOT NULL,
        slice_label text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (clustering_version, learning_id)
      )`);
    await q.query(`CREATE INDEX learning_slices_learning_ix ON learning_slices (learning_id)`);
    await q.query(`ALTER TABLE dataset_snapshots ADD COLUMN slicing jsonb`);
    await q.query(`ALTER TABLE evaluation_items ADD COLUMN slice_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evaluation_items DROP COLUMN slice_id`);
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN slicing`);
    await q.query(`DROP TABLE learning_slices`);
  }
}
