import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gate's third outcome (ADR 0015): a cycle may end `inconclusive` (the suite could not tell
 * whether the candidate is better; the champion stays), and an evaluation may decide so. The
 * one-active-cycle index must treat it as an end, or a model with one inconclusive cycle could
 * never open another.
 */
export class GateInconclusive1764215000000 implements MigrationInterface {
  name = 'GateInconclusive1764215000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE improvement_cycles ADD COLUMN inconclusive_at timestamptz`);
    await q.query(`ALTER TABLE improvement_cycles DROP CONSTRAINT improvement_cycles_status_check`);
    await q.query(`
      ALTER TABLE improvement_cycles ADD CONSTRAINT improvement_cycles_status_check
      CHECK (status IN ('opened', 'dataset_ready', 'training', 'trained', 'evaluating',
        'evaluated', 'deploying', 'deployed', 'rejected', 'inconclusive', 'failed'))`);
    await q.query(`DROP INDEX improvement_cycles_one_active_uq`);
    await q.query(`
      CREATE UNIQUE INDEX improvement_cycles_one_active_uq ON improvement_cycles (model_id)
      WHERE status NOT IN ('deployed', 'rejected', 'inconclusive', 'failed')`);
    await q.query(`ALTER TABLE evaluations DROP CONSTRAINT evaluations_decision_check`);
    await q.query(`
      ALTER TABLE evaluations ADD CONSTRAINT evaluations_decision_check
      CHECK (decision IN ('promote', 'reject', 'inconclusive'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // An inconclusive cycle or evaluation reads as a rejection under the older schema.
    await q.query(`UPDATE evaluations SET decision = 'reject' WHERE decision = 'inconclusive'`);
    await q.query(`ALTER TABLE evaluations DROP CONSTRAINT evaluations_decision_check`);
    await q.query(
      `ALTER TABLE evaluations ADD CONSTRAINT evaluations_decision_check CHECK (decision IN ('promote', 'reject'))`,
    );
    await q.query(
      `UPDATE improvement_cycles SET status = 'rejected', rejected_at = inconclusive_at WHERE status = 'inconclusive'`,
    );
    await q.query(`DROP INDEX improvement_cycles_one_active_uq`);
    await q.query(`
      CREATE UNIQUE INDEX improvement_cycles_one_active_uq ON improvement_cycles (model_id)
      WHERE status NOT IN ('deployed', 'rejected', 'failed')`);
    await q.query(`ALTER TABLE improvement_cycles DROP CONSTRAINT improvement_cycles_status_check`);
    await q.query(`
      ALTER TABLE improvement_cycles ADD CONSTRAINT improvement_cycles_status_check
      CHECK (status IN ('opened', 'dataset_ready', 'training', 'trained', 'evaluating',
        'evaluated', 'deploying', 'deployed', 'rejected', 'failed'))`);
    await q.query(`ALTER TABLE improvement_cycles DROP COLUMN inconclusive_at`);
  }
}
