import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Embeddings of the shipped evaluation suites' items (ADR 0018): semantic decontamination leaves
 * out learnings near a regression or anchor item (regression.v1, HumanEval), not only near the
 * in-domain held-out ones. The suites are frozen, so each item is embedded once per embedding
 * model and version and kept here; a new model adds its own rows.
 */
export class SuiteItemVectors1764410000001 implements MigrationInterface {
  name = 'SuiteItemVectors1764410000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE suite_item_vectors (
        suite text NOT NULL,
        item_id text NOT NULL,
        embedding_model text NOT NULL,
        embedding_version text NOT NULL,
        dimensions int NOT NULL CHECK (dimensions > 0),
        vector bytea NOT NULL,
        embedded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (suite, embedding_model, embedding_version, item_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE suite_item_vectors`);
  }
}
