import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which secret rule sets (and versions) cleaned each learning (ADR 0012), so that a rescan with a newer
 * rule set can find the learnings an older one cleaned. Rows stored before this column existed were
 * cleaned by secretlint's recommend preset alone and get that name; a row written without the column
 * afterwards (not by the learner) says 'unknown', which a rescan treats as never cleaned.
 */
export class LearningSecretRuleSet1764212000000 implements MigrationInterface {
  name = 'LearningSecretRuleSet1764212000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE learnings ADD COLUMN secret_rule_set text`);
    await q.query(`UPDATE learnings SET secret_rule_set = 'secretlint-preset-recommend@11.7.1'`);
    await q.query(`ALTER TABLE learnings ALTER COLUMN secret_rule_set SET DEFAULT 'unknown'`);
    await q.query(`ALTER TABLE learnings ALTER COLUMN secret_rule_set SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE learnings DROP COLUMN secret_rule_set`);
  }
}
