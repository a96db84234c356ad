import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SUBJECTS, makeEnvelope, type ModelEvaluatedV1 } from '@genesis/contracts';
import { HAPPY_PATH, openCycle, transitionCycle } from '@genesis/cycles';
import { ARTIFACTS_BUCKET, ArtifactStore, EventPublisher } from '@genesis/messaging';
import { ServiceProcess, TestStack, waitFor } from '@genesis/testing';

const MODEL = 'bk-model';
const [V1, V2, V3] = ['bk-model-20261120-100000', 'bk-model-20261121-100000', 'bk-model-20261122-100000'];
const FIXTURE = join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'libs',
  'contracts',
  'fixtures',
  'model.evaluated.valid.json',
);

/**
 * Backups (ADR 0022) through the real deployer: a promotion prunes, with GENESIS_BACKUP_RETENTION=1,
 * every older deployed version — never the new champion — and deletes their objects from the store.
 */
describe('deployer: backup retention after a promotion', () => {
  let stack: TestStack;
  let deployer: ServiceProcess;
  let artifacts: ArtifactStore;
  const key = (v: string) => `adapters/${v}/adapter_model.safetensors`;
  const configKey = (v: string) => `adapters/${v}/adapter_config.json`;

  before(async () => {
    stack = await TestStack.start();
    artifacts = new ArtifactStore(stack.client);
    await stack.db.query(`INSERT INTO model_families (id, registered_by) VALUES ($1, 'test')`, [MODEL]);
    for (const v of [V1, V2, V3]) {
      await artifacts.putIfAbsent(ARTIFACTS_BUCKET, key(v), `weights of ${v}`);
      await artifacts.putIfAbsent(ARTIFACTS_BUCKET, configKey(v), '{"r": 16}');
      await stack.db.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', $3, '{}')`,
        [v, MODEL, v === V3 ? 'candidate' : 'promoted'],
      );
      await stack.db.query(
        `INSERT INTO model_artifacts (version, model_id, kind, bucket, key, config_key, sha256)
         VALUES ($1, $2, 'lora-adapter', $3, $4, $5, $6)`,
        [v, MODEL, ARTIFACTS_BUCKET, key(v), configKey(v), 'ab'.repeat(32)],
      );
    }
    await stack.db.query(`INSERT INTO model_aliases (model_id, alias, version) VALUES ($1, 'champion', $2)`, [
      MODEL,
      V2,
    ]);
    await stack.db.query(
      `INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason)
       VALUES ($1, 'champion', NULL, $2, 'promotion', 'deployer', 'a'), ($1, 'champion', $2, $3, 'promotion', 'deployer', 'b')`,
      [MODEL, V1, V2],
    );
    deployer = await ServiceProcess.start('deployer', stack.env({ GENESIS_BACKUP_RETENTION: '1' }));
  });

  after(async () => {
    await deployer?.stop();
    await stack?.dispose();
  });

  it('prunes the older deployed versions and deletes their objects; the new champion keeps its own', async () => {
    const cycleId = await stack.db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: MODEL,
        trigger: 'manual',
        reason: 'test',
        counts: {},
        now: new Date(),
      });
      assert.ok(opened.opened);
      for (const to of HAPPY_PATH.slice(1, HAPPY_PATH.indexOf('evaluated') + 1))
        await transitionCycle(
          m,
          opened.cycle.id,
          to,
          to === 'trained' ? { patch: { model_version: V3 } } : {},
        );
      return opened.cycle.id;
    });
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { data: ModelEvaluatedV1 };
    const data: ModelEvaluatedV1 = {
      ...fixture.data,
      cycle_id: cycleId,
      evaluation_id: randomUUID(),
      model_version: V3,
      champion_version: V2,
    };
    await new EventPublisher(stack.client).publish(
      SUBJECTS.modelEvaluated,
      makeEnvelope(SUBJECTS.modelEvaluated, data, {
        source: 'evaluator',
        modelId: MODEL,
        cycleId,
        correlationId: cycleId,
        causationId: cycleId,
      }),
    );
    await waitFor('the cycle to be deployed', async () => {
      const [c] = await stack.db.query<{ status: string }>(
        `SELECT status FROM improvement_cycles WHERE id = $1`,
        [cycleId],
      );
      return c?.status === 'deployed';
    });
    const [alias] = await stack.db.query(`SELECT version FROM model_aliases WHERE model_id = $1`, [MODEL]);
    assert.equal(alias!['version'], V3);
    const rows = await stack.db.query<{ version: string; pruned: boolean }>(
      `SELECT version, pruned_at IS NOT NULL AS pruned FROM model_artifacts WHERE model_id = $1 ORDER BY version`,
      [MODEL],
    );
    assert.deepEqual(
      rows.map((r) => [r.version, r.pruned]),
      [
        [V1, true],
        [V2, true],
        [V3, false],
      ],
    );
    // The objects go after the commit: wait for the deletes.
    await waitFor('the pruned objects to be deleted', async () => {
      for (const v of [V1, V2]) if ((await artifacts.get(ARTIFACTS_BUCKET, key(v))) !== null) return false;
      return true;
    });
    assert.equal(await artifacts.get(ARTIFACTS_BUCKET, configKey(V1)), null);
    assert.ok(await artifacts.get(ARTIFACTS_BUCKET, key(V3)), 'the champion keeps its artifact');
  });
});
