import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Architecture trials as jobs (ADR 0025, amended): the trainer-bridge fans a study out into one job
 * per trial and keeps the study's progress on its row.
 * - architecture_studies.progress: trials finished / complete / pruned / failed / in flight,
 *   worker-seconds spent, best so far, parallelism, and which budget stopped the study; written by
 *   the bridge as each trial answers, so `GET …/studies/{study}` shows a study live.
 * - A study never stays `requested` / `running` once its cycle has failed, whichever path failed it
 *   (the bridge's give-up, the monitor's phase deadline, a dead letter, a cancel): a trigger on the
 *   cycle ends the study with the cycle's reason. One rule in the database rather than one call in
 *   each service that can fail a cycle (and in any added later).
 */
export class StudyTrials1764470000000 implements MigrationInterface {
  name = 'StudyTrials1764470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE architecture_studies ADD COLUMN progress jsonb`);
    await q.query(`
      CREATE FUNCTION architecture_study_ends_with_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE architecture_studies
           SET status = 'failed',
               failure = left('cycle ' || NEW.status || ': ' || coalesce(NEW.failure_reason, 'no reason given'), 4000),
               updated_at = now()
         WHERE cycle_id = NEW.id AND status IN ('requested', 'running');
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER architecture_study_ends_with_cycle
      AFTER UPDATE OF status ON improvement_cycles
      FOR EACH ROW WHEN (NEW.status = 'failed' AND OLD.status IS DISTINCT FROM NEW.status)
      EXECUTE FUNCTION architecture_study_ends_with_cycle()`);
    // Studies whose cycle already failed before this migration end the same way.
    await q.query(`
      UPDATE architecture_studies s
         SET status = 'failed',
             failure = left('cycle failed: ' || coalesce(c.failure_reason, 'no reason given'), 4000),
             updated_at = now()
        FROM improvement_cycles c
       WHERE c.id = s.cycle_id AND c.status = 'failed' AND s.status IN ('requested', 'running')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER architecture_study_ends_with_cycle ON improvement_cycles`);
    await q.query(`DROP FUNCTION architecture_study_ends_with_cycle()`);
    await q.query(`ALTER TABLE architecture_studies DROP COLUMN progress`);
  }
}
