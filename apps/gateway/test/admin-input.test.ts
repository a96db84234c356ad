import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, TEST_ADMIN_KEY, TestStack, request } from '@genesis/testing';

/**
 * The engine, registry and studies routes as a new user met them on a fresh `npm start`: work for a
 * model nobody registered, secrets pasted into admin texts, a lost answer retried with its
 * Idempotency-Key, racing submits, thousands of bad keys in a small body, cancelling an ended task.
 * Each was accepted or answered wrongly before; each now has its clear answer, and the tables show
 * nothing was written where a refusal says so.
 */
describe('gateway: admin input from outside (tasks, families, studies, loop, trigger, rollback)', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  // A GitHub token shape and a connection string with a password: both caught by the secret rules.
  const TOKEN = `ghp_${'iK2ZWeqhFWCEPyYngFb51yBMWXaSCrUZoL8g'}`;
  const DB_URL = 'postgres://admin:S3cretPassw0rd!@db.internal:5432/x';
  const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
    request(gateway.baseUrl, path, { key: TEST_ADMIN_KEY, json, headers });
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await stack.db.query(sql, params))[0]!['n']);

  before(async () => {
    stack = await TestStack.start();
    gateway = await ServiceProcess.start('gateway', stack.env({ GENESIS_MODEL_AUTO_REGISTER: 'false' }));
    for (const id of ['alpha', 'beta', 'gamma']) {
      const r = await post('/api/v1/models/families', {
        id,
        base_model: 'tiny',
        thresholds: { learning_threshold: 7 },
      });
      assert.equal(r.status, 201, r.text);
    }
  });

  after(async () => {
    await gateway?.stop();
    await stack?.dispose();
  });

  it('refuses a custom task or a study for an unregistered model with 422 MODEL_NOT_REGISTERED, writing nothing', async () => {
    const task = await post('/api/v1/tasks', { model_id: 'nosuch', kind: 'training', priority: 2 });
    assert.equal(task.status, 422, task.text);
    assert.equal(task.body['code'], 'MODEL_NOT_REGISTERED');
    assert.deepEqual(task.body['model_ids'], ['nosuch']);
    const study = await post('/api/v1/models/nosuch/studies', { budget: { trials: 2 } });
    assert.equal(study.status, 422, study.text);
    assert.equal(study.body['code'], 'MODEL_NOT_REGISTERED');
    const list = await request(gateway.baseUrl, '/api/v1/models/nosuch/studies', { key: TEST_ADMIN_KEY });
    assert.equal(list.status, 404, list.text);
    assert.equal(list.body['code'], 'MODEL_NOT_REGISTERED');
    assert.equal(await count(`SELECT count(*) AS n FROM improvement_tasks WHERE model_id = 'nosuch'`), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM improvement_cycles WHERE model_id = 'nosuch'`), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM architecture_studies WHERE model_id = 'nosuch'`), 0);
  });

  it('records a custom task with its family’s own thresholds in the plan, not the global ones', async () => {
    const r = await post('/api/v1/tasks', { model_id: 'gamma', kind: 'training', priority: 1 });
    assert.equal(r.status, 201, r.text);
    const [row] = await stack.db.query(`SELECT plan FROM improvement_tasks WHERE id = $1`, [r.body['id']]);
    const counts = (row!['plan'] as { counts: Record<string, unknown> }).counts;
    assert.equal(counts['learning_threshold'], 7, JSON.stringify(counts));
  });

  it('refuses a secret in any admin text with 422 SECRET_IN_FIELD, naming the field, never the value', async () => {
    const cases: { path: string; body: unknown; field: string }[] = [
      { path: '/api/v1/tasks', body: { model_id: 'alpha', reason: `token ${TOKEN}` }, field: '/reason' },
      {
        path: '/api/v1/models/families',
        body: { id: 'leaky', base_model: `https://user:${TOKEN}@hf.example/m` },
        field: '/base_model',
      },
      {
        path: '/api/v1/models/families',
        body: { id: 'leaky', base_model: 'tiny', description: `uses ${TOKEN}` },
        field: '/description',
      },
      { path: '/api/v1/engine/loop/stop', body: { reason: `rotating ${TOKEN}` }, field: '/reason' },
      {
        path: '/api/v1/engine/loop/start',
        body: { reason: `password=${'hunter2hunter2'}` },
        field: '/reason',
      },
      {
        path: '/api/v1/genesis/improvement/trigger',
        body: { model_id: 'alpha', reason: DB_URL },
        field: '/reason',
      },
      { path: '/api/v1/models/alpha/studies', body: { reason: `key ${TOKEN}` }, field: '/reason' },
      {
        path: '/api/v1/models/rollback',
        body: { model_id: 'alpha', reason: `leaked ${TOKEN}` },
        field: '/reason',
      },
    ];
    for (const c of cases) {
      const r = await post(c.path, c.body);
      assert.equal(r.status, 422, `${c.path} ${r.text}`);
      assert.equal(r.body['code'], 'SECRET_IN_FIELD', r.text);
      assert.deepEqual(
        (r.body['errors'] as { path: string }[]).map((e) => e.path),
        [c.field],
        r.text,
      );
      assert.ok(
        !r.text.includes(TOKEN) && !r.text.includes('S3cretPassw0rd') && !r.text.includes('hunter2'),
        r.text,
      );
      assert.match(String(r.body['detail']), /nothing was stored/);
    }
    // Nothing of it was written anywhere.
    assert.equal(await count(`SELECT count(*) AS n FROM improvement_tasks WHERE model_id = 'alpha'`), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM model_families WHERE id = 'leaky'`), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM improvement_cycles WHERE model_id = 'alpha'`), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM rollback_requests`), 0);
    const loop = await request(gateway.baseUrl, '/api/v1/engine/loop', { key: TEST_ADMIN_KEY });
    assert.equal(loop.body['running'], true, 'the refused stop did not stop the loop');
    // The same texts without the secret go through.
    const clean = await post('/api/v1/tasks', { model_id: 'alpha', reason: 'the new style guide' });
    assert.equal(clean.status, 201, clean.text);
  });

  it('replays a custom task retried with its Idempotency-Key, and refuses the key for another body', async () => {
    const body = { model_id: 'beta', kind: 'training', priority: 4, reason: 'retry me' };
    const key = { 'idempotency-key': 'add-beta-1' };
    const first = await post('/api/v1/tasks', body, key);
    assert.equal(first.status, 201, first.text);
    const retry = await post('/api/v1/tasks', body, key);
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(retry.body['id'], first.body['id']);
    assert.equal(retry.headers.get('location'), `/api/v1/tasks/${String(first.body['id'])}`);
    const other = await post('/api/v1/tasks', { ...body, priority: 5 }, key);
    assert.equal(other.status, 422, other.text);
    assert.equal(other.body['code'], 'IDEMPOTENCY_KEY_REUSED');
    // Without the key, a second submit is the one-active-task rule's clear 409.
    const again = await post('/api/v1/tasks', body);
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body['code'], 'TASK_ALREADY_ACTIVE');
    assert.equal(again.body['task_id'], first.body['id']);
    assert.equal(await count(`SELECT count(*) AS n FROM improvement_tasks WHERE model_id = 'beta'`), 1);
    const badKey = await post('/api/v1/tasks', body, { 'idempotency-key': 'x'.repeat(201) });
    assert.equal(badKey.status, 400);
    assert.equal(badKey.body['code'], 'INVALID_IDEMPOTENCY_KEY');
  });

  it('gives one task and a clear 409 to the others when twelve adds for one model and kind race', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () => post('/api/v1/tasks', { model_id: 'gamma', kind: 'architecture' })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array<number>(11).fill(409)], results.map((r) => r.text).join('\n'));
    const winner = results.find((r) => r.status === 201)!;
    for (const r of results.filter((x) => x.status === 409)) {
      assert.equal(r.body['code'], 'TASK_ALREADY_ACTIVE');
      assert.equal(r.body['task_id'], winner.body['id']);
    }
    assert.equal(
      await count(
        `SELECT count(*) AS n FROM improvement_tasks WHERE model_id = 'gamma' AND kind = 'architecture'`,
      ),
      1,
    );
  });

  it('lists at most 50 validation errors with their total, however many bad keys a small body holds', async () => {
    const metrics = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`K${i}`, 1]));
    const r = await post('/api/v1/tasks', { model_id: 'alpha', target_metrics: metrics });
    assert.equal(r.status, 422);
    assert.equal(r.body['code'], 'VALIDATION_FAILED');
    assert.equal((r.body['errors'] as unknown[]).length, 50);
    assert.ok(Number(r.body['errors_total']) >= 5000, `errors_total ${String(r.body['errors_total'])}`);
    assert.ok(r.text.length < 10_000, `a ${r.text.length}-character answer`);
  });

  it('refuses family thresholds no check can use, and a row that already holds one stops no model', async () => {
    for (const thresholds of [
      { feedback_window: 1e308 },
      { feedback_window: 2.5 },
      { learning_threshold: 0 },
      { feedback_min_samples: 0 },
      { time_threshold_days: 1e6 },
    ]) {
      const r = await post('/api/v1/models/families', { id: 'poison', base_model: 'tiny', thresholds });
      assert.equal(r.status, 422, `${JSON.stringify(thresholds)}: ${r.text}`);
      assert.equal(r.body['code'], 'VALIDATION_FAILED');
      assert.match(String(r.body['detail']), /must be (an integer|a number) from/);
    }
    // A family stored before the ranges were checked: its status (and the planner's check) reads
    // the default in place of the unusable window, instead of failing the query with a 500.
    await stack.db.query(
      `INSERT INTO model_families (id, base_model, artifact_kind, constraints, thresholds, registered_by)
       VALUES ('poison', 'tiny', 'lora-adapter', '{}', '{"feedback_window": 1e308, "learning_threshold": 9}', 'test')`,
    );
    const status = await request(gateway.baseUrl, '/api/v1/genesis/improvement/status?model_id=poison', {
      key: TEST_ADMIN_KEY,
    });
    assert.equal(status.status, 200, status.text);
    assert.match(
      String(status.body['trigger_reason']),
      /learnings: 0\/9/,
      'the usable threshold still applies',
    );
  });

  it('answers a malformed model_id in a body as the body problem it is (422), not as a query (400)', async () => {
    for (const [path, body] of [
      ['/api/v1/genesis/improvement/trigger', { model_id: ['alpha'] }],
      ['/api/v1/models/rollback', { model_id: 'Bad Id', reason: 'r' }],
      ['/api/v1/tasks', { model_id: 42 }],
    ] as const) {
      const r = await post(path, body);
      assert.equal(r.status, 422, `${path}: ${r.text}`);
      assert.equal(r.body['code'], 'VALIDATION_FAILED');
      assert.deepEqual(
        (r.body['errors'] as { path: string }[]).map((e) => e.path),
        ['/model_id'],
      );
    }
  });

  it('records a requested study as a running architecture task, announced like every task', async () => {
    const queued = await post('/api/v1/tasks', { model_id: 'beta', kind: 'architecture', priority: 9 });
    assert.equal(queued.status, 201, queued.text);
    const started = await post('/api/v1/models/beta/studies', { budget: { trials: 2 }, reason: 'search' });
    assert.equal(started.status, 202, started.text);
    const tasks = await request(gateway.baseUrl, '/api/v1/tasks?model_id=beta&kind=architecture', {
      key: TEST_ADMIN_KEY,
    });
    const items = tasks.body['items'] as Record<string, unknown>[];
    assert.equal(items.length, 1, 'the queued architecture task was taken over, not doubled');
    assert.equal(items[0]!['id'], queued.body['id']);
    assert.equal(items[0]!['status'], 'running');
    assert.equal(items[0]!['cycle_id'], started.body['cycle_id']);
    const events = await stack.db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject = 'task.started' AND payload::text LIKE '%' || $1 || '%'`,
      [started.body['cycle_id']],
    );
    assert.equal(events[0]!['n'], 1, 'task.started names the study cycle');
  });

  it('says should_trigger is false, and why, while the loop is stopped', async () => {
    await post('/api/v1/models/families', {
      id: 'delta',
      base_model: 'tiny',
      thresholds: { learning_threshold: 3 },
    });
    await stack.db.query(
      `INSERT INTO learnings (id, model_id, kind, source, correction, content_hash, status, event_id, captured_at, stored_at)
       SELECT id, 'delta', 'correction', 'outside-test', 'fix ' || id, encode(sha256(id::text::bytea), 'hex'),
              'accepted', gen_random_uuid(), now(), now()
       FROM unnest(ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()]) AS id`,
    );
    const status = () =>
      request(gateway.baseUrl, '/api/v1/genesis/improvement/status?model_id=delta', { key: TEST_ADMIN_KEY });
    const running = await status();
    assert.equal(running.body['should_trigger'], true, running.text);
    assert.match(String(running.body['trigger_reason']), /^Learning threshold reached \(learnings: 3\/3\)/);
    const stop = await post('/api/v1/engine/loop/stop', { reason: 'maintenance' });
    assert.equal(stop.status, 200, stop.text);
    try {
      const stopped = await status();
      assert.equal(stopped.body['should_trigger'], false, stopped.text);
      assert.match(
        String(stopped.body['trigger_reason']),
        /^Learning threshold reached \(learnings: 3\/3\); the improvement loop is stopped \(since .*\): no automatic cycle opens until it is started \(genesis loop start\)$/,
      );
    } finally {
      await post('/api/v1/engine/loop/start', {});
    }
    assert.equal((await status()).body['should_trigger'], true);
  });

  it('will not boot with a secret in a GENESIS_MODEL_FAMILIES family, and says where', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genesis-families-secret-'));
    const file = join(dir, 'families.yaml');
    writeFileSync(
      file,
      ['families:', '  - id: leaky-file', `    base_model: https://u:${TOKEN}@hf.example/m`].join('\n'),
    );
    const refused = await ServiceProcess.start('gateway', stack.env({ GENESIS_MODEL_FAMILIES: file }), {
      waitReady: false,
    });
    const code = await refused.exited();
    assert.notEqual(code, 0);
    assert.match(
      refused.logs,
      /GENESIS_MODEL_FAMILIES: family leaky-file holds what looks like a secret in \/base_model/,
    );
    assert.ok(!refused.logs.includes(TOKEN), refused.logs);
    assert.equal(await count(`SELECT count(*) AS n FROM model_families WHERE id = 'leaky-file'`), 0);
  });

  it('refuses a misspelt field of a trigger or a loop change instead of acting on the default', async () => {
    const trigger = await post('/api/v1/genesis/improvement/trigger', { modelid: 'alpha' });
    assert.equal(trigger.status, 422, trigger.text);
    assert.deepEqual(
      (trigger.body['errors'] as { path: string }[]).map((e) => e.path),
      ['/modelid'],
    );
    assert.equal(
      await count(`SELECT count(*) AS n FROM improvement_cycles WHERE model_id = 'genesis'`),
      0,
      'no cycle was opened for the default model',
    );
    const stop = await post('/api/v1/engine/loop/stop', { reson: 'typo' });
    assert.equal(stop.status, 422, stop.text);
    assert.equal(
      (await request(gateway.baseUrl, '/api/v1/engine/loop', { key: TEST_ADMIN_KEY })).body['running'],
      true,
    );
  });

  it('says a finished task has ended, not that it runs to the end of its cycle, when asked to cancel it', async () => {
    const r = await post('/api/v1/tasks', { model_id: 'alpha', kind: 'architecture' });
    assert.equal(r.status, 201, r.text);
    const id = String(r.body['id']);
    const first = await post(`/api/v1/tasks/${id}/cancel`, {});
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body['status'], 'cancelled');
    const second = await post(`/api/v1/tasks/${id}/cancel`, {});
    assert.equal(second.status, 409);
    assert.equal(second.body['code'], 'TASK_NOT_QUEUED');
    assert.equal(second.body['task_status'], 'cancelled');
    assert.match(String(second.body['detail']), /has already ended \(cancelled\)/);
  });
});
