import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Training: dataset snapshots (lineage), training jobs, and the model registry's versions. */
export class Training1763900000000 implements MigrationInterface {
  name = 'Training1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dataset_snapshots (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        cycle_id uuid NOT NULL REFERENCES improvement_cycles (id),
        sha256 char(64) NOT NULL,
        bucket text NOT NULL,
        key text NOT NULL,
        eval_key text NOT NULL,
        eval_sha256 char(64) NOT NULL,
        train_records int NOT NULL,
        replay_records int NOT NULL,
        eval_records int NOT NULL,
        learning_ids uuid[] NOT NULL,
        eval_learning_ids uuid[] NOT NULL,
        cutoff timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One snapshot per cycle: a redelivered threshold.reached finds it instead of building another.
    await q.query(`CREATE UNIQUE INDEX dataset_snapshots_cycle_uq ON dataset_snapshots (cycle_id)`);
    await q.query(`
      CREATE TABLE training_jobs (
        job_id uuid PRIMARY KEY,
        cycle_id uuid NOT NULL REFERENCES improvement_cycles (id),
        attempt int NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'expired')),
        progress jsonb,
        result jsonb,
        failure text,
        deadline timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (cycle_id, attempt)
      )`);
    await q.query(
      `CREATE INDEX training_jobs_open_ix ON training_jobs (deadline) WHERE status IN ('queued', 'running')`,
    );
    await q.query(`
      CREATE TABLE model_versions (
        version text PRIMARY KEY,
        model_id text NOT NULL,
        cycle_id uuid REFERENCES improvement_cycles (id),
        base_model text NOT NULL,
        parent_version text REFERENCES model_versions (version),
        snapshot_id uuid REFERENCES dataset_snapshots (id),
        job_id uuid REFERENCES training_jobs (job_id),
        status text NOT NULL CHECK (status IN ('candidate', 'champion', 'rejected', 'retired')),
        artifact jsonb NOT NULL,
        metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
        hyperparameters jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One version per training job, whatever the redeliveries.
    await q.query(`CREATE UNIQUE INDEX model_versions_job_uq ON model_versions (job_id)`);
    await q.query(`CREATE INDEX model_versions_model_ix ON model_versions (model_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_versions`);
    await q.query(`DROP TABLE training_jobs`);
    await q.query(`DROP TABLE dataset_snapshots`);
  }
}
