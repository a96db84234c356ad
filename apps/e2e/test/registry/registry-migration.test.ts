import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS, createDataSource, runMigrations } from '@genesis/persistence';
import { championOf, getVersion, listFamilies, modelPerformance } from '@genesis/registry';
import { dropDatabase } from '@genesis/testing';

const REGISTRY_MIGRATION = 1764430000000;

/**
 * The registry migration keeps existing data (ADR 0022): a database migrated up to just before
 * it, holding rows the way the services wrote them until now, is migrated the rest of the way.
 */
describe('registry migration backfills from existing rows', () => {
  const base = process.env['DATABASE_URL']!;
  const name = `genesis_test_${randomBytes(5).toString('hex')}`;
  let db: DataSource;

  before(async () => {
    const admin = new Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    const dir = join(MIGRATIONS[0]!, '..');
    const earlier = readdirSync(dir)
      .filter((f) => f.endsWith('.js') && Number(f.split('-')[0]) < REGISTRY_MIGRATION)
      .map((f) => join(dir, f));
    const old = new DataSource({
      type: 'postgres',
      url: url.toString(),
      migrations: earlier,
      migrationsTableName: 'schema_migrations',
    });
    await old.initialize();
    await old.runMigrations({ transaction: 'each' });
    await seedLegacyRows(old);
    await old.destroy();
    db = await createDataSource(url.toString(), 'genesis-test', 2).initialize();
    await runMigrations(db);
  });

  after(async () => {
    if (db?.isInitialized) await db.destroy();
    const admin = new Client({ connectionString: base });
    await admin.connect();
    await dropDatabase(admin, name).finally(() => admin.end());
  });

  const A = 'legacy-20261101-100000';
  const B = 'legacy-20261102-100000';
  const C = 'legacy-20261103-100000';
  const S = 'statusonly-20261101-100000';

  async function seedLegacyRows(m: DataSource) {
    const artifact = (n: number) =>
      JSON.stringify({
        bucket: 'genesis-artifacts',
        key: `adapters/${n}`,
        config_key: `adapters/${n}.json`,
        sha256: String(n).repeat(64),
        size_bytes: 100 * n,
        format: 'peft-lora-safetensors',
      });
    const training = JSON.stringify({
      final_loss: 0.4,
      steps: 40,
      tokens: 900,
      train_seconds: 3,
      tokens_per_second: 300,
    });
    for (const [version, model, status, n] of [
      [A, 'legacy', 'retired', 1],
      [B, 'legacy', 'champion', 2],
      [C, 'legacy', 'rejected', 3],
      [S, 'statusonly', 'champion', 4],
    ] as const)
      await m.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact, metrics) VALUES ($1, $2, 'tiny', $3, $4, $5)`,
        [version, model, status, artifact(n), training],
      );
    await m.query(
      `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ('handmade-20261101-100000', 'handmade', 'tiny', 'candidate', '{}')`,
    );
    await m.query(`INSERT INTO model_aliases (model_id, alias, version) VALUES ('legacy', 'champion', $1)`, [
      B,
    ]);
    await m.query(
      `INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason)
       VALUES ('legacy', 'champion', NULL, $1, 'promotion', 'deployer', 'first'), ('legacy', 'champion', $1, $2, 'promotion', 'deployer', 'second')`,
      [A, B],
    );
    // A completed evaluation of C against B on suite version sv-9.
    const cycle = randomUUID();
    await m.query(
      `INSERT INTO improvement_cycles (id, model_id, status, trigger, reason, opened_at, phase_entered_at)
       VALUES ($1, 'legacy', 'rejected', 'manual', 'test', now(), now())`,
      [cycle],
    );
    await m.query(
      `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, champion_version, base_model, suite, status,
         decision, result, completed_at, suite_version)
       VALUES ($1, $2, 'legacy', $3, $4, 'tiny', '{}', 'completed', 'reject', $5, now(), 'sv-9')`,
      [
        randomUUID(),
        cycle,
        C,
        B,
        JSON.stringify({ candidate: { accuracy: 0.5, items: 10 }, champion: { accuracy: 0.55, items: 10 } }),
      ],
    );
    // A model known only from its learnings and checks.
    await m.query(
      `INSERT INTO monitor_checks (model_id, checked_at, decision, reason) VALUES ('quiet', now(), 'none', 'test')`,
    );
  }

  it('registers every model, keeps every artifact, and derives the champion from the alias alone', async () => {
    assert.deepEqual(
      (await listFamilies(db)).map((f) => [f.id, f.base_model, f.registered_by]),
      [
        ['handmade', 'tiny', 'migration'],
        ['legacy', 'tiny', 'migration'],
        ['quiet', null, 'migration'],
        ['statusonly', 'tiny', 'migration'],
      ],
    );
    assert.equal(await championOf(db, 'legacy'), B);
    assert.equal(await championOf(db, 'statusonly'), S, 'an alias for a champion known only by its status');
    const [moved] = await db.query(
      `SELECT actor, to_version FROM alias_history WHERE model_id = 'statusonly'`,
    );
    assert.deepEqual(moved, { actor: 'migration', to_version: S });
    assert.deepEqual(await Promise.all([A, B, C, S].map(async (v) => (await getVersion(db, v))!.status)), [
      'retired',
      'champion',
      'rejected',
      'champion',
    ]);
    const artifacts = await db.query(
      `SELECT version, kind, size_bytes::int AS size FROM model_artifacts ORDER BY version`,
    );
    assert.deepEqual(artifacts, [
      { version: A, kind: 'lora-adapter', size: 100 },
      { version: B, kind: 'lora-adapter', size: 200 },
      { version: C, kind: 'lora-adapter', size: 300 },
      { version: S, kind: 'lora-adapter', size: 400 },
    ]);
    const perf = await modelPerformance(db, 'legacy');
    assert.equal(perf.champion!.version, B);
    assert.equal(perf.champion!.accuracy, 0.55);
    assert.equal(perf.champion!.suite_version, 'sv-9');
    assert.equal(perf.history.filter((h) => h.source === 'training').length, 3);
    assert.deepEqual(
      perf.history
        .filter((h) => h.source === 'evaluation')
        .map((h) => [h.version, h.role, h.accuracy])
        .sort(),
      [
        [B, 'champion', 0.55],
        [C, 'candidate', 0.5],
      ],
    );
    await assert.rejects(
      db.query(`UPDATE model_versions SET status = 'champion' WHERE version = $1`, [A]),
      /model_versions_status_check/,
      'champion is never stored again',
    );
  });
});
