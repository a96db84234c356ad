import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rescan and forget (ADR 0017): a job row per rescan or forget request (its resumable cursor and
 * progress), what it changed per learning, the snapshot objects it replaced (purged after the
 * commit, so a crash in between leaves a record instead of an orphan), and the taints it put on
 * model versions trained on a changed snapshot. A forgotten learning stays as a tombstone without
 * text (status `forgotten`), so its id keeps answering and lineage keeps its shape.
 */
export class RescanAndForget1764217000000 implements MigrationInterface {
  name = 'RescanAndForget1764217000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE learnings DROP CONSTRAINT IF EXISTS learnings_status_check`);
    await q.query(
      `ALTER TABLE learnings ADD CONSTRAINT learnings_status_check
         CHECK (status IN ('accepted', 'duplicate', 'quarantined', 'forgotten'))`,
    );
    await q.query(`
      CREATE TABLE learning_rescans (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('rescan', 'forget')),
        model_id text,
        learning_ids uuid[],
        reason text NOT NULL,
        requested_by text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'scanning', 'purging', 'completed', 'failed')),
        rule_set text,
        cursor uuid,
        total int,
        scanned int NOT NULL DEFAULT 0,
        redacted int NOT NULL DEFAULT 0,
        quarantined int NOT NULL DEFAULT 0,
        forgotten int NOT NULL DEFAULT 0,
        snapshots_rebuilt int NOT NULL DEFAULT 0,
        snapshots_deleted int NOT NULL DEFAULT 0,
        models_tainted int NOT NULL DEFAULT 0,
        attempts int NOT NULL DEFAULT 0,
        failure text,
        carried_into uuid,
        requested_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        scanned_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'forget') = (learning_ids IS NOT NULL))
      )`);
    // At most one full rescan at a time: a second request finds the running one.
    await q.query(
      `CREATE UNIQUE INDEX learning_rescans_one_active_uq ON learning_rescans (kind)
       WHERE kind = 'rescan' AND status IN ('pending', 'scanning', 'purging')`,
    );
    await q.query(`CREATE INDEX learning_rescans_recent_ix ON learning_rescans (requested_at DESC)`);
    await q.query(`
      CREATE TABLE learning_rescan_changes (
        rescan_id uuid NOT NULL REFERENCES learning_rescans (id),
        learning_id uuid NOT NULL REFERENCES learnings (id),
        action text NOT NULL CHECK (action IN ('redacted', 'quarantined', 'forgotten')),
        rules text[] NOT NULL DEFAULT '{}',
        fields text[] NOT NULL DEFAULT '{}',
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (rescan_id, learning_id)
      )`);
    await q.query(`ALTER TABLE dataset_snapshots ADD COLUMN rebuilt_at timestamptz`);
    await q.query(`ALTER TABLE dataset_snapshots ADD COLUMN deleted_at timestamptz`);
    await q.query(
      `ALTER TABLE dataset_snapshots ADD COLUMN rebuilt_by uuid REFERENCES learning_rescans (id)`,
    );
    await q.query(`
      CREATE TABLE rescan_purges (
        rescan_id uuid NOT NULL REFERENCES learning_rescans (id),
        bucket text NOT NULL,
        key text NOT NULL,
        purged_at timestamptz,
        PRIMARY KEY (rescan_id, bucket, key)
      )`);
    await q.query(`
      CREATE TABLE model_version_taints (
        version text NOT NULL REFERENCES model_versions (version),
        rescan_id uuid NOT NULL REFERENCES learning_rescans (id),
        snapshot_id uuid NOT NULL REFERENCES dataset_snapshots (id),
        reason text NOT NULL,
        learning_ids uuid[] NOT NULL,
        tainted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (version, rescan_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_version_taints`);
    await q.query(`DROP TABLE rescan_purges`);
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN rebuilt_by`);
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN deleted_at`);
    await q.query(`ALTER TABLE dataset_snapshots DROP COLUMN rebuilt_at`);
    await q.query(`DROP TABLE learning_rescan_changes`);
    await q.query(`DROP TABLE learning_rescans`);
    await q.query(`ALTER TABLE learnings DROP CONSTRAINT learnings_status_check`);
    await q.query(
      `ALTER TABLE learnings ADD CONSTRAINT learnings_status_check
         CHECK (status IN ('accepted', 'duplicate', 'quarantined'))`,
    );
  }
}
