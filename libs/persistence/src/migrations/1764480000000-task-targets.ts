import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Task targets and constraints, and one iteration per interval (ADR 0027).
 *   - improvement_cycles.targets: the target metrics and constraints of the task the cycle runs,
 *     written with the cycle by the monitor's start function, read by the evaluator's gate (which
 *     must not reach into the monitor's improvement_tasks). null: a cycle no task asked anything of.
 *   - engine_loop.interval_holder / interval_claimed_at: the planner replica that runs the interval
 *     iterations, as a lease. The holder renews it every interval; another replica takes it only
 *     when the holder has been silent for 1.5 intervals, so one interval is one planning pass and
 *     one history row however many replicas tick.
 *   - engine_iteration_requests: each engine.iteration_requested claimed once (its event id), so a
 *     redelivered request does not plan and record a second iteration.
 */
export class TaskTargets1764480000000 implements MigrationInterface {
  name = 'TaskTargets1764480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE improvement_cycles ADD COLUMN targets jsonb`);
    await q.query(`ALTER TABLE engine_loop ADD COLUMN interval_holder text`);
    await q.query(`ALTER TABLE engine_loop ADD COLUMN interval_claimed_at timestamptz`);
    await q.query(`
      CREATE TABLE engine_iteration_requests (
        request_id uuid PRIMARY KEY,
        claimed_by text NOT NULL,
        claimed_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE engine_iteration_requests`);
    await q.query(`ALTER TABLE engine_loop DROP COLUMN interval_claimed_at`);
    await q.query(`ALTER TABLE engine_loop DROP COLUMN interval_holder`);
    await q.query(`ALTER TABLE improvement_cycles DROP COLUMN targets`);
  }
}
