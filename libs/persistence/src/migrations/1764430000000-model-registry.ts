import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The model registry as one owner (ADR 0022): families, artifacts of a tagged kind with their
 * backup state, and a metrics history per version. The champion is the `champion` alias alone, so
 * model_versions.status keeps only the gate's side of a version's life (candidate, rejected,
 * promoted); "champion" and "retired" are derived from the alias and its history when read.
 *
 * Existing data is kept: every model the tables mention becomes a registered family, every
 * version's artifact a `lora-adapter` artifact, every recorded score a history row, and a model
 * whose champion was known only from a version's status or a deployed cycle gets its alias.
 */
export class ModelRegistry1764430000000 implements MigrationInterface {
  name = 'ModelRegistry1764430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_families (
        id text PRIMARY KEY,
        -- null: the deployment's configured base model (GENESIS_BASE_MODEL) trains it
        base_model text,
        artifact_kind text NOT NULL DEFAULT 'lora-adapter'
          CHECK (artifact_kind IN ('lora-adapter', 'merged', 'quantised', 'distilled')),
        constraints jsonb NOT NULL DEFAULT '{}'::jsonb,
        thresholds jsonb NOT NULL DEFAULT '{}'::jsonb,
        description text,
        registered_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      INSERT INTO model_families (id, base_model, registered_by)
      SELECT ids.model_id,
        (SELECT v.base_model FROM model_versions v WHERE v.model_id = ids.model_id ORDER BY v.created_at DESC LIMIT 1),
        'migration'
      FROM (SELECT model_id FROM learnings UNION SELECT model_id FROM improvement_cycles
            UNION SELECT model_id FROM model_versions UNION SELECT model_id FROM monitor_checks
            UNION SELECT model_id FROM model_aliases) ids
      ON CONFLICT (id) DO NOTHING`);

    await q.query(`
      CREATE TABLE model_artifacts (
        version text PRIMARY KEY REFERENCES model_versions (version),
        model_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('lora-adapter', 'merged', 'quantised', 'distilled')),
        format text,
        bucket text NOT NULL,
        key text NOT NULL,
        config_key text,
        sha256 text NOT NULL,
        size_bytes bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Backups (ADR 0022): set when retention removed the stored objects; the row stays as lineage.
        pruned_at timestamptz,
        pruned_reason text
      )`);
    await q.query(`CREATE INDEX model_artifacts_model_ix ON model_artifacts (model_id, created_at DESC)`);
    // Rows other code wrote by hand (tests) may carry an empty artifact: they get no artifact row.
    await q.query(`
      INSERT INTO model_artifacts (version, model_id, kind, format, bucket, key, config_key, sha256, size_bytes, created_at)
      SELECT version, model_id, 'lora-adapter', artifact->>'format', artifact->>'bucket', artifact->>'key',
        artifact->>'config_key', artifact->>'sha256', (artifact->>'size_bytes')::bigint, created_at
      FROM model_versions WHERE artifact ? 'bucket' AND artifact ? 'key' AND artifact ? 'sha256'`);

    await q.query(`
      CREATE TABLE model_version_metrics (
        id bigserial PRIMARY KEY,
        version text NOT NULL REFERENCES model_versions (version),
        model_id text NOT NULL,
        source text NOT NULL CHECK (source IN ('training', 'evaluation')),
        suite_version text,
        evaluation_id uuid REFERENCES evaluations (id),
        role text CHECK (role IN ('candidate', 'champion')),
        accuracy float8,
        -- mean seconds of generation per evaluated item, in milliseconds (the worker's wall time)
        latency_ms float8,
        size_bytes bigint,
        resources jsonb NOT NULL DEFAULT '{}'::jsonb,
        metrics jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Redeliveries record a score once: one training row per version, one row per evaluation and version.
    await q.query(
      `CREATE UNIQUE INDEX model_version_metrics_training_uq ON model_version_metrics (version) WHERE source = 'training'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX model_version_metrics_evaluation_uq ON model_version_metrics (evaluation_id, version)
       WHERE source = 'evaluation'`,
    );
    await q.query(
      `CREATE INDEX model_version_metrics_model_ix ON model_version_metrics (model_id, recorded_at DESC, id DESC)`,
    );
    await q.query(`
      INSERT INTO model_version_metrics (version, model_id, source, size_bytes, resources, metrics, recorded_at)
      SELECT version, model_id, 'training', (artifact->>'size_bytes')::bigint,
        jsonb_strip_nulls(jsonb_build_object('train_seconds', metrics->'train_seconds',
          'tokens_per_second', metrics->'tokens_per_second', 'tokens', metrics->'tokens')),
        metrics - 'evaluation' - 'by_suite' - 'accuracy', created_at
      FROM model_versions WHERE metrics ? 'final_loss'`);
    for (const role of ['candidate', 'champion'])
      await q.query(`
        INSERT INTO model_version_metrics (version, model_id, source, suite_version, evaluation_id, role, accuracy,
          metrics, recorded_at)
        SELECT e.${role}_version, e.model_id, 'evaluation', e.suite_version, e.id, '${role}',
          (e.result->'${role}'->>'accuracy')::float8, e.result->'${role}', e.completed_at
        FROM evaluations e
        WHERE e.status = 'completed' AND e.${role}_version IS NOT NULL AND e.result ? '${role}'
        ON CONFLICT DO NOTHING`);

    // The champion from the alias alone: models whose champion was only a status or a deployed cycle.
    await q.query(`
      INSERT INTO model_aliases (model_id, alias, version)
      SELECT DISTINCT ON (model_id) model_id, 'champion', version FROM model_versions
      WHERE status = 'champion' ORDER BY model_id, created_at DESC
      ON CONFLICT DO NOTHING`);
    await q.query(`
      INSERT INTO model_aliases (model_id, alias, version)
      SELECT DISTINCT ON (model_id) model_id, 'champion', model_version FROM improvement_cycles
      WHERE status = 'deployed' AND model_version IS NOT NULL ORDER BY model_id, deployed_at DESC
      ON CONFLICT DO NOTHING`);
    await q.query(`
      INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason)
      SELECT a.model_id, a.alias, NULL, a.version, 'promotion', 'migration',
        'champion alias backfilled from the version''s status or its deployed cycle'
      FROM model_aliases a
      WHERE NOT EXISTS (SELECT 1 FROM alias_history h WHERE h.model_id = a.model_id AND h.alias = a.alias)`);

    await q.query(`ALTER TABLE model_versions DROP CONSTRAINT model_versions_status_check`);
    await q.query(`UPDATE model_versions SET status = 'promoted' WHERE status IN ('champion', 'retired')`);
    await q.query(
      `ALTER TABLE model_versions ADD CONSTRAINT model_versions_status_check
       CHECK (status IN ('candidate', 'rejected', 'promoted'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE model_versions DROP CONSTRAINT model_versions_status_check`);
    await q.query(`
      UPDATE model_versions v SET status = CASE WHEN EXISTS (
        SELECT 1 FROM model_aliases a WHERE a.version = v.version AND a.alias = 'champion') THEN 'champion' ELSE 'retired' END
      WHERE status = 'promoted'`);
    await q.query(
      `ALTER TABLE model_versions ADD CONSTRAINT model_versions_status_check
       CHECK (status IN ('candidate', 'champion', 'rejected', 'retired'))`,
    );
    for (const t of ['model_version_metrics', 'model_artifacts', 'model_families'])
      await q.query(`DROP TABLE ${t}`);
  }
}
