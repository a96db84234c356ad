import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DEFAULT_MODEL_ID } from '@genesis/contracts';
import { lockAlias, moveAlias, recordEvaluation, registerCandidate } from '@genesis/registry';
import { ServiceProcess, TEST_ADMIN_KEY, TEST_WRITER_KEY, TestStack, request } from '@genesis/testing';

/**
 * The registry over HTTP (ADR 0022): families by config file and by API, learnings for an
 * unregistered model refused, and the performance endpoint equal to what the tables hold.
 */
describe('gateway: model families, performance and backups', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  const get = (path: string, key = TEST_ADMIN_KEY) => request(gateway.baseUrl, path, { key });

  before(async () => {
    stack = await TestStack.start();
    const dir = mkdtempSync(join(tmpdir(), 'genesis-families-'));
    const file = join(dir, 'families.yaml');
    writeFileSync(
      file,
      [
        'families:',
        '  - id: coder-small',
        '    base_model: tiny',
        '    constraints: { max_size_bytes: 5000000, latency_target_ms: 250 }',
        '    thresholds: { learning_threshold: 25, performance_threshold: 0.8 }',
        '    description: the small code model',
      ].join('\n'),
    );
    gateway = await ServiceProcess.start(
      'gateway',
      stack.env({ GENESIS_MODEL_FAMILIES: file, GENESIS_MODEL_AUTO_REGISTER: 'false' }),
    );
  });

  after(async () => {
    await gateway?.stop();
    await stack?.dispose();
  });

  it('registers the default model and the configured families at boot', async () => {
    const res = await get('/api/v1/models/families');
    assert.equal(res.status, 200, res.text);
    const items = res.body['items'] as Record<string, unknown>[];
    assert.deepEqual(
      items.map((f) => [f['id'], f['registered_by']]),
      [
        ['coder-small', 'config'],
        [DEFAULT_MODEL_ID, 'default'],
      ],
    );
    const one = await get('/api/v1/models/families/coder-small');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body['thresholds'], { learning_threshold: 25, performance_threshold: 0.8 });
    assert.deepEqual(one.body['constraints'], { max_size_bytes: 5000000, latency_target_ms: 250 });
    assert.equal(one.body['artifact_kind'], 'lora-adapter');
    const missing = await get('/api/v1/models/families/nobody');
    assert.equal(missing.status, 404);
    assert.equal(missing.body['code'], 'MODEL_NOT_REGISTERED');
  });

  it('refuses a learning for an unregistered model with 422 MODEL_NOT_REGISTERED, accepts it once registered', async () => {
    const learning = {
      kind: 'correction',
      source: 'test',
      model_id: 'late-family',
      correction: 'def f(x):\n    return x + 1',
    };
    const post = () =>
      request(gateway.baseUrl, '/api/v1/learnings', { key: TEST_WRITER_KEY, json: learning });
    const refused = await post();
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body['code'], 'MODEL_NOT_REGISTERED');
    assert.deepEqual(refused.body['model_ids'], ['late-family']);
    assert.match(String(refused.body['detail']), /POST \/api\/v1\/models\/families/);
    const trigger = await request(gateway.baseUrl, '/api/v1/genesis/improvement/trigger', {
      key: TEST_ADMIN_KEY,
      json: { model_id: 'late-family' },
    });
    assert.equal(trigger.status, 422, trigger.text);

    // Registering takes admin; a writer key may not.
    const family = { id: 'late-family', base_model: 'tiny', thresholds: { learning_threshold: 5 } };
    const forbidden = await request(gateway.baseUrl, '/api/v1/models/families', {
      key: TEST_WRITER_KEY,
      json: family,
    });
    assert.equal(forbidden.status, 403);
    const created = await request(gateway.baseUrl, '/api/v1/models/families', {
      key: TEST_ADMIN_KEY,
      json: family,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('location'), '/api/v1/models/families/late-family');
    assert.match(String(created.body['registered_by']), /^api:/);
    const again = await request(gateway.baseUrl, '/api/v1/models/families', {
      key: TEST_ADMIN_KEY,
      json: family,
    });
    assert.equal(again.status, 200, 'a second registration replaces, it does not create');
    const [row] = await stack.db.query(`SELECT thresholds FROM model_families WHERE id = 'late-family'`);
    assert.deepEqual(row!['thresholds'], { learning_threshold: 5 });

    const accepted = await post();
    assert.equal(accepted.status, 202, accepted.text);

    const bad = await request(gateway.baseUrl, '/api/v1/models/families', {
      key: TEST_ADMIN_KEY,
      json: { id: 'x', artifact_kind: 'onnx', constraints: { max_size_bytes: -1 } },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body['code'], 'VALIDATION_FAILED');
    assert.deepEqual((bad.body['errors'] as { path: string }[]).map((e) => e.path).sort(), [
      '/artifact_kind',
      '/constraints/max_size_bytes',
    ]);
  });

  it('answers performance and backups equal to the registry tables', async () => {
    const model = 'coder-small';
    const versions: string[] = [];
    for (const [n, at] of [
      [1, '2026-11-20T10:00:00Z'],
      [2, '2026-11-21T10:00:00Z'],
    ] as const) {
      versions.push(
        await stack.db.dataSource.transaction(async (m) => {
          const cycleId = randomUUID();
          await m.query(
            `INSERT INTO improvement_cycles (id, model_id, status, trigger, reason, opened_at, phase_entered_at)
             VALUES ($1, $2, 'deployed', 'manual', 'test', now(), now())`,
            [cycleId, model],
          );
          const snapshotId = randomUUID();
          await m.query(
            `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
               train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff)
             VALUES ($1, $2, $3, $4, 'genesis-artifacts', 'k', 'ek', $4, 10, 0, 2, '{}', '{}', now())`,
            [snapshotId, model, cycleId, 'ef'.repeat(32)],
          );
          const jobId = randomUUID();
          await m.query(
            `INSERT INTO training_jobs (job_id, cycle_id, attempt, status, deadline) VALUES ($1, $2, 1, 'completed', now())`,
            [jobId, cycleId],
          );
          const version = await registerCandidate(m, {
            modelId: model,
            cycleId,
            baseModel: 'tiny',
            snapshotId,
            jobId,
            artifact: {
              bucket: 'genesis-artifacts',
              key: `adapters/${n}`,
              config_key: `adapters/${n}.json`,
              sha256: String(n).repeat(64),
              size_bytes: 1000 * n,
              format: 'peft-lora-safetensors',
            },
            artifactKind: 'lora-adapter',
            metrics: {
              final_loss: 0.3,
              steps: 40,
              examples: 9,
              tokens: 800,
              train_seconds: 1.5,
              tokens_per_second: 533,
            },
            hyperparameters: {},
            at: new Date(at),
          });
          const evaluationId = randomUUID();
          await m.query(
            `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, base_model, suite, status)
             VALUES ($1, $2, $3, $4, 'tiny', '{}', 'completed')`,
            [evaluationId, cycleId, model, version],
          );
          const metrics = {
            accuracy: 0.5 + n / 10,
            exact_match: 0.5,
            functional_pass_rate: null,
            perplexity: 2,
            bleu: 30,
            success_rate: 0.5,
            items: 10,
            in_domain_items: 10,
            regression_items: 0,
            functional_items: 0,
          };
          await recordEvaluation(m, {
            evaluationId,
            modelId: model,
            suiteVersion: 'sv-1',
            scores: [{ version, role: 'candidate', metrics, latencyMs: 100 * n }],
          });
          const from = await lockAlias(m, model);
          await moveAlias(m, {
            modelId: model,
            from,
            to: version,
            kind: 'promotion',
            actor: 'test',
            reason: 'test',
            deploymentId: null,
          });
          return version;
        }),
      );
    }

    const perf = await get(`/api/v1/models/${model}/performance`);
    assert.equal(perf.status, 200, perf.text);
    const champion = perf.body['champion'] as Record<string, unknown>;
    assert.equal(champion['version'], versions[1]);
    assert.equal(champion['accuracy'], 0.7);
    assert.equal(champion['latency_ms'], 200);
    assert.equal(champion['size_bytes'], 2000);
    assert.deepEqual(champion['within_constraints'], { latency: true, size: true });
    const rows = await stack.db.query(
      `SELECT version, source, role, suite_version, accuracy, latency_ms, size_bytes::int AS size_bytes,
         to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at
       FROM model_version_metrics WHERE model_id = $1 ORDER BY recorded_at DESC, id DESC`,
      [model],
    );
    const history = (perf.body['history'] as Record<string, unknown>[]).map((h) => ({
      version: h['version'],
      source: h['source'],
      role: h['role'],
      suite_version: h['suite_version'],
      accuracy: h['accuracy'],
      latency_ms: h['latency_ms'],
      size_bytes: h['size_bytes'],
      recorded_at: h['recorded_at'],
    }));
    assert.equal(rows.length, 4);
    assert.deepEqual(history, rows);

    const backups = await get(`/api/v1/models/${model}/backups`);
    assert.equal(backups.status, 200, backups.text);
    assert.deepEqual(
      (backups.body['items'] as Record<string, unknown>[]).map((b) => [
        b['version'],
        b['restorable'],
        b['aliases'],
      ]),
      [
        [versions[1], true, ['champion']],
        [versions[0], true, []],
      ],
    );
    const unknown = await get('/api/v1/models/nobody/performance');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 'MODEL_NOT_REGISTERED');
    // The version list shows the derived statuses.
    const list = await get(`/api/v1/models?model_id=${model}`);
    assert.deepEqual(
      (list.body['items'] as Record<string, unknown>[]).map((v) => [
        v['version'],
        v['status'],
        v['is_champion'],
      ]),
      [
        [versions[1], 'champion', true],
        [versions[0], 'retired', false],
      ],
    );
  });
});
