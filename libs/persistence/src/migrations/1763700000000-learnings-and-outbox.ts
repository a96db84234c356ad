import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LearningsAndOutbox1763700000000 implements MigrationInterface {
  name = 'LearningsAndOutbox1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE learnings (
        id uuid PRIMARY KEY,
        model_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('correction', 'pattern', 'error_fix')),
        source text NOT NULL,
        language text,
        context text,
        model_output text,
        correction text,
        produced_by text,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        content_hash char(64) NOT NULL,
        status text NOT NULL CHECK (status IN ('accepted', 'duplicate', 'quarantined')),
        duplicate_of uuid REFERENCES learnings (id),
        quarantine_reason text,
        redaction_count int NOT NULL DEFAULT 0,
        snapshot_id uuid,
        event_id uuid NOT NULL,
        captured_at timestamptz NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL))
      )`);
    // Exact dedup is the database's job: one accepted learning per normalised content per model.
    await q.query(
      `CREATE UNIQUE INDEX learnings_accepted_content_uq ON learnings (model_id, content_hash) WHERE status = 'accepted'`,
    );
    await q.query(
      `CREATE INDEX learnings_model_recent_ix ON learnings (model_id, captured_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX learnings_recent_ix ON learnings (captured_at DESC, id DESC)`);
    await q.query(`CREATE INDEX learnings_model_status_stored_ix ON learnings (model_id, status, stored_at)`);
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        subject text NOT NULL,
        payload text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_pending_ix ON outbox (id) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
    await q.query(`DROP TABLE learnings`);
  }
}
