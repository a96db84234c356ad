import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Versioned suites and decontamination (ADR 0016), all additive:
 * - `learnings.tests`: Python tests a learning may carry (an error_fix's failing test); a held-out
 *   learning with tests is scored functionally.
 * - `dataset_snapshots.decontamination` / `excluded_learning_ids`: what a snapshot left out of
 *   training because it normalises to an evaluation item, and why.
 * - `suite_versions`: the frozen in-domain suites of a model. A version's items never change; a new
 *   version is cut only when enough new held-out items have accumulated.
 * - `evaluations.suite_version`: the suite every recorded score was measured on.
 */
export class VersionedSuites1764216000000 implements MigrationInterface {
  name = 'VersionedSuites1764216000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE learnings ADD COLUMN tests text`);
    await q.query(`ALTER TABLE dataset_snapshots ADD COLUMN decontamination jsonb NOT NULL DEFAULT '{}'`);
    await q.query(
      `ALTER TABLE dataset_snapshots ADD COLUMN excluded_learning_ids uuid[] NOT NULL DEFAULT '{}'`,
    );
    await q.query(`
      CREATE TABLE suite_versions (
        model_id text NOT NULL,
        version int NOT NULL CHECK (version >= 1),
        sha256 char(64) NOT NULL,
        bucket text NOT NULL,
        key text NOT NULL,
        items int NOT NULL,
        learning_ids uuid[] NOT NULL,
        cycle_id uuid REFERENCES improvement_cycles (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model_id, version)
      )`);
    await q.query(`ALTER TABLE evaluations ADD COLUMN suite_version text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evaluations DROP COLUMN suite_version`);
    await q.query(`DROP TABLE suite_versions`);
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN excluded_learning_ids`);
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN decontamination`);
    await q.query(`ALTER TABLE learnings DROP COLUMN tests`);
  }
}
