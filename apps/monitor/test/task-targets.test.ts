import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lockAlias, moveAlias } from '@genesis/registry';
import { ServiceProcess, TEST_ADMIN_KEY, TestStack, request, waitFor } from '@genesis/testing';
import { finishCycle, metricValue } from './helpers';

interface TaskView {
  id: string;
  status: string;
  cycle_id: string | null;
  target_metrics: Record<string, number>;
  constraints: Record<string, number>;
  result: {
    performance_gain: number;
    targets_met: {
      all: boolean;
      metrics: Record<string, { target: number; value: number | null; met: boolean }>;
    } | null;
    constraints: unknown[] | null;
  } | null;
}

/**
 * A task's targets and constraints through the real gateway, monitor and Postgres (ADR 0027): the
 * API accepts only known keys, the task's cycle carries them for the gate, the finished task
 * records whether each target was reached; and a champion measured over its family's latency
 * target is a signal the planner shows (optimisation needed, not runnable: nothing queued).
 */
describe('engine: task targets, constraints and the latency signal', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let monitor: ServiceProcess;
  const api = <T = Record<string, unknown>>(path: string, json?: unknown) =>
    request<T>(gateway.baseUrl, path, { key: TEST_ADMIN_KEY, ...(json === undefined ? {} : { json }) });
  const task = async (id: string) => (await api<TaskView>(`/api/v1/tasks/${id}`)).body;

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({ GENESIS_SCHEDULER_INTERVAL_S: '0.5' });
    [gateway, monitor] = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('monitor', env),
    ]);
  });

  after(async () => {
    await Promise.all([gateway?.stop(), monitor?.stop()]);
    await stack?.dispose();
  });

  it('refuses unknown or out-of-range keys, naming the allowed ones', async () => {
    const res = await api('/api/v1/tasks', {
      model_id: 'targets-model',
      target_metrics: { f1: 0.9, accuracy: 2 },
      constraints: { max_minutes: 60 },
    });
    assert.equal(res.status, 422, res.text);
    assert.match(String(res.headers.get('content-type')), /application\/problem\+json/);
    const errors = (res.body['errors'] as { path: string; message: string }[]).map(
      (e) => `${e.path} ${e.message}`,
    );
    assert.deepEqual(errors, [
      '/target_metrics/f1 is not one of the allowed keys: accuracy, exact_match, functional_pass_rate, success_rate, bleu, perplexity, gain',
      '/target_metrics/accuracy must be a number from 0 to 1 (in-domain accuracy on the gate suite, 0..1)',
      '/constraints/max_minutes is not one of the allowed keys: latency_target_ms, max_size_bytes',
    ]);
  });

  it("carries the task's targets into its cycle and records which were reached", async () => {
    const created = await api<TaskView>('/api/v1/tasks', {
      model_id: 'targets-model',
      priority: 5,
      target_metrics: { accuracy: 0.8, gain: 0.2 },
      constraints: { latency_target_ms: 200 },
    });
    assert.equal(created.status, 201, created.text);
    const started = await waitFor('the task to start', async () => {
      const t = await task(created.body.id);
      return t.status === 'running' && t.cycle_id ? t : undefined;
    });
    const [cycle] = await stack.db.query<{ targets: unknown }>(
      `SELECT targets FROM improvement_cycles WHERE id = $1`,
      [started.cycle_id],
    );
    assert.deepEqual(cycle!.targets, {
      target_metrics: { accuracy: 0.8, gain: 0.2 },
      constraints: { latency_target_ms: 200 },
    });

    // The evaluator's part, as it writes it: the candidate reached 0.85 accuracy, +0.1 over the champion.
    const version = 'targets-model-v1';
    const evaluationId = randomUUID();
    await stack.db.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO model_versions (version, model_id, cycle_id, base_model, status, artifact) VALUES ($1, 'targets-model', $2, 'tiny', 'candidate', '{}')`,
        [version, started.cycle_id],
      );
      const constraints = [
        {
          constraint: 'latency_target_ms',
          code: 'latency_constraint',
          limit: 200,
          source: 'task',
          value: 25,
          ok: true,
        },
      ];
      await m.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, base_model, suite, status, decision, reason, result)
         VALUES ($1, $2, 'targets-model', $3, 'tiny', '{}', 'completed', 'promote', 'promote: test', $4)`,
        [
          evaluationId,
          started.cycle_id,
          version,
          JSON.stringify({
            delta: 0.1,
            primary_metric: 'accuracy',
            candidate: { accuracy: 0.85 },
            constraints,
          }),
        ],
      );
      await m.query(`UPDATE improvement_cycles SET evaluation_id = $2 WHERE id = $1`, [
        started.cycle_id,
        evaluationId,
      ]);
    });
    await finishCycle(stack, started.cycle_id!, 'deployed', { modelVersion: version, score: 0.85 });
    const ended = await waitFor('the task to end', async () => {
      const t = await task(created.body.id);
      return t.status === 'deployed' ? t : undefined;
    });
    assert.equal(ended.result!.performance_gain, 0.1);
    assert.deepEqual(ended.result!.targets_met, {
      all: false,
      metrics: {
        accuracy: { target: 0.8, value: 0.85, met: true },
        gain: { target: 0.2, value: 0.1, met: false },
      },
    });
    assert.equal(ended.result!.constraints?.length, 1);
    const completed = await stack.lastEvent<{ task_id: string; result: TaskView['result'] }>(
      'task.completed',
      (e) => e.data.task_id === created.body.id,
    );
    assert.deepEqual(completed.event.data.result!.targets_met, ended.result!.targets_met);

    // Deployed, targets not met: the planner's next look at the model counts the miss (1 of 2).
    const forced = await api('/api/v1/engine/iterations', {});
    assert.ok(forced.status < 300, forced.text);
    const signals = await waitFor('an iteration that saw the miss', async () => {
      const [row] = await stack.db.query<{ s: { signals: Record<string, number | null> } | null }>(
        `SELECT signals -> 'targets-model' AS s FROM engine_iterations ORDER BY iteration DESC LIMIT 1`,
      );
      return row?.s?.signals['targets_unmet'] === 0.5 ? row.s.signals : undefined;
    });
    assert.equal(signals['targets_unmet'], 0.5);
  });

  it("shows a champion over its family's latency target as an optimisation need, queuing nothing", async () => {
    const model = 'slow-model';
    await stack.db.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO model_families (id, constraints, registered_by) VALUES ($1, '{"latency_target_ms": 10}', 'test')`,
        [model],
      );
      await m.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'candidate', '{}')`,
        [`${model}-v1`, model],
      );
      // The champion's latest evaluation measured 25 ms per item (the evaluator's registry row).
      await m.query(
        `INSERT INTO model_version_metrics (version, model_id, source, role, accuracy, latency_ms, metrics)
         VALUES ($1, $2, 'evaluation', 'champion', 0.9, 25, '{}')`,
        [`${model}-v1`, model],
      );
      await moveAlias(m, {
        modelId: model,
        from: await lockAlias(m, model),
        to: `${model}-v1`,
        kind: 'promotion',
        actor: 'test',
        reason: 'test',
        deploymentId: null,
      });
    });
    const forced = await api('/api/v1/engine/iterations', {});
    assert.ok(forced.status < 300, forced.text);
    const status = await waitFor('the need in the engine status', async () => {
      const s = await api<{ pending_needs: { model_id: string; kind: string; reason: string }[] }>(
        '/api/v1/engine/status',
      );
      return s.body.pending_needs.find((n) => n.model_id === model);
    });
    assert.equal(status.kind, 'optimisation');
    assert.match(status.reason, /champion latency 25\.0 ms per item > target 10 ms: optimisation needed/);
    const [row] = await stack.db.query<{ s: { signals: Record<string, number | null> } }>(
      `SELECT signals -> $1 AS s FROM engine_iterations ORDER BY iteration DESC LIMIT 1`,
      [model],
    );
    assert.equal(row!.s.signals['latency_ms'], 25);
    assert.equal(row!.s.signals['latency_target_ms'], 10);
    assert.equal(row!.s.signals['latency_over_target'], 1.5);
    const metrics = await (await fetch(`${monitor.baseUrl}/metrics`)).text();
    assert.equal(metricValue(metrics, 'genesis_model_latency_ms', { model_id: model }), 25);
    const queued = await stack.db.query(`SELECT kind FROM improvement_tasks WHERE model_id = $1`, [model]);
    assert.deepEqual(queued, [], 'the optimisation kind is not runnable: nothing is queued');
  });
});
