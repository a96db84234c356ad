import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The improvement engine (ADR 0024).
 *   - improvement_tasks: one row per task of any kind. At most one queued-or-running task per
 *     model and kind (partial unique index), so two planner replicas can never enqueue the same
 *     work twice; a started task names its cycle (one task per cycle). The priority is kept with
 *     its explanation (signals, values, weights) so the API can say why.
 *   - engine_loop: the loop's on/off switch (one row), persisted so a restart keeps it.
 *   - engine_iterations: the history, one row per planning iteration (the seed's
 *     SelfImprovementMetrics), computed from improvement_tasks when the iteration ends.
 */
export class ImprovementEngine1764450000000 implements MigrationInterface {
  name = 'ImprovementEngine1764450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE improvement_tasks (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('training', 'architecture', 'optimisation', 'distillation')),
        status text NOT NULL CHECK (status IN (
          'queued', 'running', 'deployed', 'rejected', 'inconclusive', 'failed', 'cancelled')),
        priority double precision NOT NULL,
        priority_explanation jsonb NOT NULL,
        target_metrics jsonb NOT NULL DEFAULT '{}',
        constraints jsonb NOT NULL DEFAULT '{}',
        requested_by text NOT NULL,
        automatic boolean NOT NULL,
        reason text NOT NULL,
        -- What the planner saw when it asked (trigger, counts): the cycle is opened with it.
        plan jsonb NOT NULL DEFAULT '{}',
        cycle_id uuid REFERENCES improvement_cycles (id),
        queued_at timestamptz NOT NULL,
        started_at timestamptz,
        ended_at timestamptz,
        updated_at timestamptz NOT NULL,
        result jsonb,
        cancelled_by text,
        completion_event_id uuid,
        CHECK ((status = 'running') <= (cycle_id IS NOT NULL AND started_at IS NOT NULL)),
        CHECK ((status IN ('queued', 'running')) = (ended_at IS NULL))
      )`);
    await q.query(`
      CREATE UNIQUE INDEX improvement_tasks_one_active_ux ON improvement_tasks (model_id, kind)
      WHERE status IN ('queued', 'running')`);
    await q.query(
      `CREATE UNIQUE INDEX improvement_tasks_cycle_ux ON improvement_tasks (cycle_id) WHERE cycle_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX improvement_tasks_status_ix ON improvement_tasks (status, queued_at)`);
    await q.query(
      `CREATE INDEX improvement_tasks_ended_ix ON improvement_tasks (ended_at) WHERE ended_at IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE engine_loop (
        id smallint PRIMARY KEY CHECK (id = 1),
        running boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        changed_by text NOT NULL,
        reason text
      )`);
    await q.query(
      `INSERT INTO engine_loop (id, running, changed_at, changed_by) VALUES (1, true, now(), 'install')`,
    );
    await q.query(`
      CREATE TABLE engine_iterations (
        iteration int PRIMARY KEY,
        trigger text NOT NULL CHECK (trigger IN ('interval', 'forced')),
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        window_start timestamptz,
        models_checked int NOT NULL,
        tasks_enqueued int NOT NULL,
        tasks_completed int NOT NULL,
        models_improved int NOT NULL,
        total_gain double precision NOT NULL,
        best_gain double precision,
        avg_execution_seconds double precision,
        signals jsonb NOT NULL,
        resources jsonb NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE engine_iterations`);
    await q.query(`DROP TABLE engine_loop`);
    await q.query(`DROP TABLE improvement_tasks`);
  }
}
