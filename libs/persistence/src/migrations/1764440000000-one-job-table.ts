import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One job lifecycle for every kind of worker job (ADR 0023): `training_jobs` and
 * `evaluation_jobs` become rows of one `jobs` table, with their history.
 *   - kind is an open set (training, evaluation; architecture and trial come later), so no CHECK
 *     lists it: a new kind is a registration in code, not a migration.
 *   - parent_id / role say which part of its owner a job serves (an evaluation and its candidate
 *     or champion run); attempts are numbered per (kind, owner, role).
 *   - request keeps the job message as sent, so a retry re-sends it with a new job id instead of
 *     every kind rebuilding it; rows migrated from before have none.
 *   - every job has a deadline: evaluation jobs had none, so a migrated open one gets an hour from
 *     now and a finished one its last update.
 *   - model_versions.job_id now references jobs.
 */
export class OneJobTable1764440000000 implements MigrationInterface {
  name = 'OneJobTable1764440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]*$'),
        cycle_id uuid REFERENCES improvement_cycles (id),
        task_id uuid,
        parent_id uuid,
        role text,
        model_id text NOT NULL,
        correlation_id uuid,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'expired')),
        attempt int NOT NULL CHECK (attempt >= 1),
        max_attempts int NOT NULL CHECK (max_attempts >= 1),
        deadline timestamptz NOT NULL,
        request jsonb,
        progress jsonb,
        result jsonb,
        error jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(`
      CREATE UNIQUE INDEX jobs_attempt_uq
      ON jobs (kind, coalesce(parent_id, cycle_id, task_id), coalesce(role, ''), attempt)`);
    await q.query(`CREATE INDEX jobs_open_ix ON jobs (kind, deadline) WHERE status IN ('queued', 'running')`);
    await q.query(`CREATE INDEX jobs_cycle_ix ON jobs (cycle_id, kind, attempt DESC)`);
    await q.query(`CREATE INDEX jobs_parent_ix ON jobs (parent_id) WHERE parent_id IS NOT NULL`);

    // Old failures were "CODE: message" text (or the bare code of an expiry).
    const errorOf = (col: string) => `
      CASE WHEN ${col} IS NULL THEN NULL
           WHEN position(': ' IN ${col}) > 0 THEN jsonb_build_object(
             'code', split_part(${col}, ': ', 1), 'message', substr(${col}, position(': ' IN ${col}) + 2))
           ELSE jsonb_build_object('code', ${col}, 'message', ${col}) END`;
    await q.query(`
      INSERT INTO jobs (id, kind, cycle_id, model_id, correlation_id, status, attempt, max_attempts, deadline,
        progress, result, error, created_at, updated_at, finished_at)
      SELECT t.job_id, 'training', t.cycle_id, c.model_id, c.id, t.status, t.attempt, greatest(t.attempt, 3),
        t.deadline, t.progress, t.result, ${errorOf('t.failure')}, t.created_at, t.updated_at,
        CASE WHEN t.status IN ('queued', 'running') THEN NULL ELSE t.updated_at END
      FROM training_jobs t JOIN improvement_cycles c ON c.id = t.cycle_id`);
    await q.query(`
      INSERT INTO jobs (id, kind, cycle_id, parent_id, role, model_id, correlation_id, status, attempt,
        max_attempts, deadline, result, error, created_at, updated_at, finished_at)
      SELECT j.job_id, 'evaluation', e.cycle_id, e.id, j.role, e.model_id, e.cycle_id, j.status, j.attempt,
        greatest(j.attempt, 3),
        CASE WHEN j.status = 'queued' THEN now() + interval '1 hour' ELSE j.updated_at END,
        CASE WHEN j.metrics IS NULL AND j.results IS NULL THEN NULL ELSE jsonb_build_object(
          'job_id', j.job_id, 'evaluation_id', e.id, 'role', j.role, 'metrics', j.metrics, 'results', j.results) END,
        ${errorOf('j.failure')}, j.created_at, j.updated_at,
        CASE WHEN j.status = 'queued' THEN NULL ELSE j.updated_at END
      FROM evaluation_jobs j JOIN evaluations e ON e.id = j.evaluation_id`);
    await q.query(`ALTER TABLE model_versions DROP CONSTRAINT IF EXISTS model_versions_job_id_fkey`);
    await q.query(
      `ALTER TABLE model_versions ADD CONSTRAINT model_versions_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id)`,
    );
    await q.query(`DROP TABLE evaluation_jobs`);
    await q.query(`DROP TABLE training_jobs`);
  }

  async down(q: QueryRunner): Promise<void> {
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
      CREATE TABLE evaluation_jobs (
        job_id uuid PRIMARY KEY,
        evaluation_id uuid NOT NULL REFERENCES evaluations (id),
        role text NOT NULL CHECK (role IN ('candidate', 'champion')),
        attempt int NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'completed', 'failed')),
        metrics jsonb,
        results jsonb,
        failure text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (evaluation_id, role, attempt)
      )`);
    const failure = `CASE WHEN error IS NULL THEN NULL ELSE (error->>'code') || ': ' || (error->>'message') END`;
    await q.query(`
      INSERT INTO training_jobs (job_id, cycle_id, attempt, status, progress, result, failure, deadline, created_at, updated_at)
      SELECT id, cycle_id, attempt, status, progress, result, ${failure}, deadline, created_at, updated_at
      FROM jobs WHERE kind = 'training'`);
    await q.query(`
      INSERT INTO evaluation_jobs (job_id, evaluation_id, role, attempt, status, metrics, results, failure, created_at, updated_at)
      SELECT id, parent_id, role, attempt,
        CASE WHEN status IN ('queued', 'running') THEN 'queued' WHEN status = 'completed' THEN 'completed' ELSE 'failed' END,
        result->'metrics', result->'results', ${failure}, created_at, updated_at
      FROM jobs WHERE kind = 'evaluation'`);
    await q.query(`ALTER TABLE model_versions DROP CONSTRAINT IF EXISTS model_versions_job_id_fkey`);
    await q.query(
      `ALTER TABLE model_versions ADD CONSTRAINT model_versions_job_id_fkey FOREIGN KEY (job_id) REFERENCES training_jobs (job_id)`,
    );
    await q.query(`DROP TABLE jobs`);
  }
}
