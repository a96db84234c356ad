import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The improvement cycle (ADR 0004), its timeline, feedback on model outputs, and the monitor's checks. */
export class ImprovementCycles1763800000000 implements MigrationInterface {
  name = 'ImprovementCycles1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE improvement_cycles (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('opened', 'dataset_ready', 'training', 'trained', 'evaluating',
          'evaluated', 'deploying', 'deployed', 'rejected', 'failed')),
        trigger text NOT NULL CHECK (trigger IN ('learnings', 'time', 'performance', 'manual')),
        reason text NOT NULL,
        counts jsonb NOT NULL DEFAULT '{}'::jsonb,
        requested_by text,
        threshold_event_id uuid,
        snapshot_id uuid,
        model_version text,
        score double precision,
        failed_phase text,
        failure_reason text,
        opened_at timestamptz NOT NULL,
        dataset_ready_at timestamptz,
        training_at timestamptz,
        trained_at timestamptz,
        evaluating_at timestamptz,
        evaluated_at timestamptz,
        deploying_at timestamptz,
        deployed_at timestamptz,
        rejected_at timestamptz,
        failed_at timestamptz,
        phase_entered_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'failed') = (failed_phase IS NOT NULL))
      )`);
    // The guarantee that two monitors (or a monitor and a manual trigger) never run two cycles.
    await q.query(`
      CREATE UNIQUE INDEX improvement_cycles_one_active_uq ON improvement_cycles (model_id)
      WHERE status NOT IN ('deployed', 'rejected', 'failed')`);
    await q.query(
      `CREATE INDEX improvement_cycles_model_recent_ix ON improvement_cycles (model_id, opened_at DESC)`,
    );
    await q.query(`CREATE INDEX improvement_cycles_recent_ix ON improvement_cycles (opened_at DESC)`);
    await q.query(`
      CREATE TABLE cycle_transitions (
        id bigserial PRIMARY KEY,
        cycle_id uuid NOT NULL REFERENCES improvement_cycles (id),
        from_status text,
        to_status text NOT NULL,
        at timestamptz NOT NULL,
        event_type text,
        event_id uuid,
        reason text
      )`);
    await q.query(`CREATE INDEX cycle_transitions_cycle_ix ON cycle_transitions (cycle_id, id)`);
    await q.query(`
      CREATE TABLE feedback (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        model_version text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('accepted', 'corrected')),
        learning_id uuid,
        source text,
        api_key_id text,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX feedback_window_ix ON feedback (model_id, model_version, recorded_at DESC)`);
    await q.query(`CREATE INDEX feedback_model_ix ON feedback (model_id, recorded_at DESC)`);
    await q.query(`
      CREATE TABLE monitor_checks (
        model_id text PRIMARY KEY,
        checked_at timestamptz NOT NULL,
        decision text NOT NULL,
        reason text NOT NULL
      )`);
    // "New learnings since the last training snapshot" is counted on every check: keep it cheap.
    await q.query(
      `CREATE INDEX learnings_untrained_ix ON learnings (model_id, stored_at) WHERE status = 'accepted' AND snapshot_id IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX learnings_untrained_ix`);
    await q.query(`DROP TABLE monitor_checks`);
    await q.query(`DROP TABLE feedback`);
    await q.query(`DROP TABLE cycle_transitions`);
    await q.query(`DROP TABLE improvement_cycles`);
  }
}
