import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The second kind of cycle (ADR 0025): an `architecture` cycle runs an Optuna study over the LoRA
 * configuration instead of one training job.
 * - improvement_cycles.kind: `training` (every cycle so far) or `architecture`;
 * - architecture_studies: one study per architecture cycle, its budget and, once the worker has
 *   answered, its best trial and summary (written by the trainer-bridge; the trials themselves live
 *   in Optuna's own tables, schema `optuna`, written by the workers);
 * - model_training_configs: the training configuration each model's later jobs.train use, i.e. the
 *   best configuration of its latest *deployed* architecture cycle, with its lineage (study, cycle,
 *   version). A view, not a hand-kept table: it follows from the cycle and the study, so it can
 *   never disagree with them.
 */
export class ArchitectureSearch1764460000000 implements MigrationInterface {
  name = 'ArchitectureSearch1764460000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE improvement_cycles ADD COLUMN kind text NOT NULL DEFAULT 'training'
        CONSTRAINT improvement_cycles_kind_check CHECK (kind IN ('training', 'architecture'))`);
    await q.query(`
      CREATE TABLE architecture_studies (
        id uuid PRIMARY KEY,
        cycle_id uuid NOT NULL UNIQUE REFERENCES improvement_cycles (id),
        model_id text NOT NULL,
        study_name text NOT NULL UNIQUE,
        status text NOT NULL CHECK (status IN ('requested', 'running', 'completed', 'failed')),
        budget jsonb NOT NULL,
        search_space jsonb NOT NULL DEFAULT '{}'::jsonb,
        baseline jsonb,
        warm_start jsonb NOT NULL DEFAULT '[]'::jsonb,
        requested_by text,
        best_trial int,
        best_value double precision,
        best_hyperparameters jsonb,
        summary jsonb,
        failure text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX architecture_studies_model_ix ON architecture_studies (model_id, created_at DESC)`,
    );
    await q.query(`
      CREATE VIEW model_training_configs AS
      SELECT DISTINCT ON (c.model_id)
        c.model_id,
        s.best_hyperparameters AS hyperparameters,
        s.id AS study_id,
        s.study_name,
        s.best_trial,
        c.id AS cycle_id,
        c.model_version,
        c.deployed_at AS adopted_at
      FROM architecture_studies s
      JOIN improvement_cycles c ON c.id = s.cycle_id
      WHERE c.kind = 'architecture' AND c.status = 'deployed' AND s.best_hyperparameters IS NOT NULL
      ORDER BY c.model_id, c.deployed_at DESC`);
    // Optuna's own tables (studies, trials, ...) go here, out of the way of Genesis' tables; the
    // workers create them on first use (Optuna's RDB storage).
    await q.query(`CREATE SCHEMA IF NOT EXISTS optuna`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW model_training_configs`);
    await q.query(`DROP TABLE architecture_studies`);
    // An architecture cycle reads as a training cycle under the older schema.
    await q.query(`ALTER TABLE improvement_cycles DROP COLUMN kind`);
    // The optuna schema is left: its studies are the workers' data, not this migration's.
  }
}
