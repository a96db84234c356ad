import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProcess, TEST_ADMIN_KEY, TestStack, request, waitFor } from '@genesis/testing';

const MODEL = 'rb-model';
const V1 = 'rb-model-20261120-100000';
const V2 = 'rb-model-20261121-100000';
const REJECTED = 'rb-model-20261122-100000';

/** The value of one series in a /metrics text, undefined when the series does not exist. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * A refused rollback request moves nothing, so it is not a rollback: genesis_rollbacks_total
 * counts the alias moved back, genesis_rollback_requests_total every request by its outcome.
 */
describe('deployer: rollbacks carried out vs rollback requests', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let deployer: ServiceProcess;

  const rollback = async (body: Record<string, string>) => {
    const res = await request(gateway.baseUrl, '/api/v1/models/rollback', {
      json: body,
      key: TEST_ADMIN_KEY,
    });
    assert.equal(res.status, 202, res.text);
    const url = (res.body as { status_url: string }).status_url;
    return waitFor('the rollback to finish', async () => {
      const r = await request(gateway.baseUrl, url, { key: TEST_ADMIN_KEY });
      return r.body['status'] === 'pending' ? undefined : (r.body as { status: string; failure: string });
    });
  };

  before(async () => {
    stack = await TestStack.start();
    const artifact = JSON.stringify({
      bucket: 'genesis-artifacts',
      key: 'a',
      config_key: 'c',
      sha256: 'ab'.repeat(32),
    });
    // The registry's view (ADR 0022): a registered family; champion and retired are the alias's word.
    await stack.db.query(`INSERT INTO model_families (id, registered_by) VALUES ($1, 'test')`, [MODEL]);
    for (const [version, status] of [
      [V1, 'promoted'],
      [V2, 'promoted'],
      [REJECTED, 'rejected'],
    ] as const) {
      await stack.db.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', $3, $4)`,
        [version, MODEL, status, artifact],
      );
      await stack.db.query(
        `INSERT INTO model_artifacts (version, model_id, kind, bucket, key, config_key, sha256)
         VALUES ($1, $2, 'lora-adapter', 'genesis-artifacts', 'a', 'c', $3)`,
        [version, MODEL, 'ab'.repeat(32)],
      );
    }
    await stack.db.query(`INSERT INTO model_aliases (model_id, alias, version) VALUES ($1, 'champion', $2)`, [
      MODEL,
      V2,
    ]);
    await stack.db.query(
      `INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason)
       VALUES ($1, 'champion', NULL, $2, 'promotion', 'deployer', 'first'),
              ($1, 'champion', $2, $3, 'promotion', 'deployer', 'second')`,
      [MODEL, V1, V2],
    );
    const env = stack.env();
    [gateway, deployer] = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('deployer', env),
    ]);
  });

  after(async () => {
    await Promise.all([gateway?.stop(), deployer?.stop()]);
    await stack?.dispose();
  });

  it('counts refused requests as requests only, and a carried-out rollback as one rollback', async () => {
    const start = (await request(deployer.baseUrl, '/metrics')).text;
    assert.equal(
      value(start, 'genesis_rollbacks_total', { model_id: MODEL }),
      0,
      'known from the database at boot',
    );

    const refused = await rollback({ model_id: MODEL, reason: 'to a rejected one', version: REJECTED });
    assert.equal(refused.status, 'failed');
    assert.match(refused.failure, /never promoted/);
    const none = await rollback({ model_id: 'no-champion-model', reason: 'nothing to roll back' });
    assert.equal(none.status, 'failed');
    const done = await rollback({ model_id: MODEL, reason: 'worse completions' });
    assert.equal(done.status, 'succeeded', JSON.stringify(done));

    const text = (await request(deployer.baseUrl, '/metrics')).text;
    assert.equal(value(text, 'genesis_rollbacks_total', { model_id: MODEL }), 1);
    assert.equal(value(text, 'genesis_rollback_requests_total', { model_id: MODEL, outcome: 'refused' }), 1);
    assert.equal(
      value(text, 'genesis_rollback_requests_total', { model_id: MODEL, outcome: 'succeeded' }),
      1,
    );
    assert.equal(value(text, 'genesis_rollback_requests_total', { model_id: MODEL, outcome: 'failed' }), 0);
    assert.equal(value(text, 'genesis_rollbacks_total', { model_id: 'no-champion-model' }), 0);
    assert.equal(
      value(text, 'genesis_rollback_requests_total', { model_id: 'no-champion-model', outcome: 'refused' }),
      1,
    );
  });

  it('restores a kept backup by rolling back to it, and refuses one whose artifact was pruned', async () => {
    const model = 'rb-restore';
    const [r1, r2, r3] = [
      'rb-restore-20261120-100000',
      'rb-restore-20261121-100000',
      'rb-restore-20261122-100000',
    ];
    await stack.db.query(`INSERT INTO model_families (id, registered_by) VALUES ($1, 'test')`, [model]);
    for (const v of [r1, r2, r3]) {
      await stack.db.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'promoted', '{}')`,
        [v, model],
      );
      await stack.db.query(
        `INSERT INTO model_artifacts (version, model_id, kind, bucket, key, config_key, sha256, pruned_at)
         VALUES ($1, $2, 'lora-adapter', 'genesis-artifacts', $1, $1, $3, $4)`,
        [v, model, 'ab'.repeat(32), v === r1 ? new Date() : null],
      );
    }
    await stack.db.query(`INSERT INTO model_aliases (model_id, alias, version) VALUES ($1, 'champion', $2)`, [
      model,
      r3,
    ]);
    await stack.db.query(
      `INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason)
       VALUES ($1, 'champion', NULL, $2, 'promotion', 'deployer', 'a'), ($1, 'champion', $2, $3, 'promotion', 'deployer', 'b'),
              ($1, 'champion', $3, $4, 'promotion', 'deployer', 'c')`,
      [model, r1, r2, r3],
    );
    const pruned = await rollback({ model_id: model, reason: 'restore the oldest', version: r1 });
    assert.equal(pruned.status, 'failed');
    assert.match(pruned.failure, /^ARTIFACT_PRUNED: /);
    const restored = await rollback({ model_id: model, reason: 'restore the backup', version: r2 });
    assert.equal(restored.status, 'succeeded', JSON.stringify(restored));
    const [alias] = await stack.db.query(`SELECT version FROM model_aliases WHERE model_id = $1`, [model]);
    assert.equal(alias!['version'], r2);
  });
});
