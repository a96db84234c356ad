import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evaluation (one per cycle, a job per role, per-item results) and the registry's serving side:
 * the champion alias, its history (every move kept, never overwritten), deployments and rollback
 * requests.
 */
export class EvaluationAndRegistry1764000000000 implements MigrationInterface {
  name = 'EvaluationAndRegistry1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE improvement_cycles ADD COLUMN evaluation_id uuid`);
    await q.query(`
      CREATE TABLE evaluations (
        id uuid PRIMARY KEY,
        cycle_id uuid NOT NULL UNIQUE REFERENCES improvement_cycles (id),
        model_id text NOT NULL,
        candidate_version text NOT NULL REFERENCES model_versions (version),
        champion_version text REFERENCES model_versions (version),
        base_model text NOT NULL,
        suite jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        decision text CHECK (decision IN ('promote', 'reject')),
        reason text,
        result jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX evaluations_model_ix ON evaluations (model_id, created_at DESC)`);
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
    // Per item, both models side by side: what the paired test counted, kept for inspection.
    await q.query(`
      CREATE TABLE evaluation_items (
        evaluation_id uuid NOT NULL REFERENCES evaluations (id),
        item_id text NOT NULL,
        split text NOT NULL CHECK (split IN ('in_domain', 'regression')),
        learning_id uuid,
        candidate_correct boolean NOT NULL,
        champion_correct boolean NOT NULL,
        candidate jsonb NOT NULL,
        champion jsonb NOT NULL,
        PRIMARY KEY (evaluation_id, item_id)
      )`);
    await q.query(`
      CREATE TABLE model_aliases (
        model_id text NOT NULL,
        alias text NOT NULL,
        version text NOT NULL REFERENCES model_versions (version),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model_id, alias)
      )`);
    await q.query(`
      CREATE TABLE deployments (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        version text NOT NULL REFERENCES model_versions (version),
        kind text NOT NULL CHECK (kind IN ('promotion', 'rollback')),
        target text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        served_as text,
        cycle_id uuid REFERENCES improvement_cycles (id),
        request_id uuid,
        failure text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    // One promotion deployment per cycle and one deployment per rollback request, whatever the redeliveries.
    await q.query(
      `CREATE UNIQUE INDEX deployments_cycle_uq ON deployments (cycle_id) WHERE kind = 'promotion'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX deployments_request_uq ON deployments (request_id) WHERE kind = 'rollback'`,
    );
    await q.query(`
      CREATE TABLE alias_history (
        id bigserial PRIMARY KEY,
        model_id text NOT NULL,
        alias text NOT NULL,
        from_version text REFERENCES model_versions (version),
        to_version text NOT NULL REFERENCES model_versions (version),
        kind text NOT NULL CHECK (kind IN ('promotion', 'rollback')),
        actor text NOT NULL,
        reason text NOT NULL,
        deployment_id uuid REFERENCES deployments (id),
        moved_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alias_history_model_ix ON alias_history (model_id, alias, id DESC)`);
    await q.query(`
      CREATE TABLE rollback_requests (
        request_id uuid PRIMARY KEY,
        model_id text NOT NULL,
        version text,
        reason text NOT NULL,
        requested_by text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        from_version text,
        to_version text,
        failure text,
        requested_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'rollback_requests',
      'alias_history',
      'deployments',
      'model_aliases',
      'evaluation_items',
      'evaluation_jobs',
      'evaluations',
    ])
      await q.query(`DROP TABLE ${t}`);
    await q.query(`ALTER TABLE improvement_cycles DROP COLUMN evaluation_id`);
  }
}
