import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rescan or forget job also cleans the model outputs evaluations keep (ADR 0017, amended): per-item
 * rows and the workers' results objects. The job records how far it got (evaluations are walked in id
 * order, one transaction each, so a redelivered job resumes after the last one it finished) and how
 * many per-item outputs it changed.
 */
export class EvaluationOutputCleaning1764400000000 implements MigrationInterface {
  name = 'EvaluationOutputCleaning1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE learning_rescans ADD COLUMN evaluations_cursor uuid`);
    await q.query(
      `ALTER TABLE learning_rescans ADD COLUMN evaluation_outputs_cleaned int NOT NULL DEFAULT 0`,
    );
    // A forget job looks up the items derived from the forgotten learnings.
    await q.query(
      `CREATE INDEX IF NOT EXISTS evaluation_items_learning_ix ON evaluation_items (learning_id)
       WHERE learning_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS evaluation_items_learning_ix`);
    await q.query(`ALTER TABLE learning_rescans DROP COLUMN evaluation_outputs_cleaned`);
    await q.query(`ALTER TABLE learning_rescans DROP COLUMN evaluations_cursor`);
  }
}
