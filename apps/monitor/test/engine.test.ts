import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { BROADCASTS, SUBJECTS, type WorkerHeartbeatV1 } from '@genesis/contracts';
import { openCycle } from '@genesis/cycles';
import { ServiceProcess, TEST_ADMIN_KEY, TestStack, request, sleep, waitFor } from '@genesis/testing';
import { finishCycle, metricValue, runMonitorOnce, storeLearnings } from './helpers';

interface TaskView {
  id: string;
  model_id: string;
  kind: string;
  status: string;
  phase: string | null;
  priority: number;
  priority_explanation: {
    source: string;
    summary: string;
    terms: { signal: string; value: number | null }[];
  };
  requested_by: string;
  reason: string;
  automatic: boolean;
  cycle_id: string | null;
  started_at: string | null;
  ended_at: string | null;
  result: { performance_gain: number; execution_seconds: number } | null;
}

/**
 * The improvement engine on real NATS, Postgres and Redis (ADR 0024): a monitor (planner and
 * scheduler) and a gateway (the engine's API). The later services are played through the shared
 * cycle transitions (finishCycle), so a test decides when a task's cycle ends. The steps build on
 * each other: each starts from the tasks the previous one left.
 */
describe('engine: priorities, concurrency, heartbeats, loop control, crash, history', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let monitor: ServiceProcess;
  const beats: NodeJS.Timeout[] = [];
  let monitorEnv: Record<string, string>;

  const api = async <T = Record<string, unknown>>(path: string, json?: unknown) => {
    const res = await request<T>(gateway.baseUrl, path, {
      key: TEST_ADMIN_KEY,
      ...(json === undefined ? {} : { json }),
    });
    return res;
  };
  const tasks = async (query = '') => {
    const res = await api<{ items: TaskView[] }>(`/api/v1/tasks?limit=500${query}`);
    assert.equal(res.status, 200, res.text);
    return res.body.items;
  };
  /** The model's newest task that was not cancelled. */
  const taskOf = async (model: string) =>
    (await tasks(`&model_id=${model}`)).find((t) => t.status !== 'cancelled');
  const running = async () => (await tasks('&status=running')).map((t) => t.model_id).sort();
  const limitInForce = async () => {
    const text = await (await fetch(`${monitor.baseUrl}/metrics`)).text();
    return metricValue(text, 'genesis_engine_concurrency_limit', {}) ?? Number.NaN;
  };
  const heartbeat = (memory: number) => {
    const beat: WorkerHeartbeatV1 = {
      worker_id: 'worker-1',
      host: 'test',
      kinds: ['training', 'evaluation'],
      slots_total: 4,
      slots_busy: 1,
      memory_used_fraction: memory,
      gpu_memory_used_fraction: null,
      sent_at: new Date().toISOString(),
    };
    stack.client.connection.publish(BROADCASTS.workersHeartbeat, JSON.stringify(beat));
  };
  /** Beats every 300 ms as a worker would, until the next call (or the end). */
  const beatEvery = (memory: number) => {
    for (const t of beats.splice(0)) clearInterval(t);
    heartbeat(memory);
    beats.push(setInterval(() => heartbeat(memory), 300));
  };
  const end = async (model: string, outcome: 'deployed' | 'rejected' = 'deployed') => {
    const task = await taskOf(model);
    assert.ok(task?.cycle_id, `${model} has a started task`);
    await finishCycle(stack, task.cycle_id, outcome, { modelVersion: `${model}-v1`, score: 0.95 });
    return task;
  };

  before(async () => {
    stack = await TestStack.start();
    monitorEnv = stack.env({
      GENESIS_MAX_CONCURRENT_TASKS: '2',
      GENESIS_SCHEDULER_INTERVAL_S: '0.5',
      GENESIS_WORKER_HEARTBEAT_S: '1',
      GENESIS_REJECTION_BACKOFF_MINUTES: '0',
      GENESIS_MONITOR_MODELS: 'genesis',
    });
    // Three models needing work before the engine starts: its first iteration plans all three.
    await storeLearnings(stack, 'model-a', 100, { publish: false });
    await storeLearnings(stack, 'model-b', 200, { publish: false });
    await storeLearnings(stack, 'model-c', 300, { publish: false });
    [gateway, monitor] = await Promise.all([
      ServiceProcess.start('gateway', stack.env()),
      ServiceProcess.start('monitor', monitorEnv),
    ]);
  });

  after(async () => {
    for (const t of beats) clearInterval(t);
    await Promise.all([gateway?.stop(), monitor?.stop()]);
    await stack?.dispose();
  });

  it('runs exactly two of three tasks at once, by priority, and starts the third when one ends', async () => {
    await waitFor('two tasks running', async () => (await running()).length === 2);
    assert.deepEqual(await running(), ['model-b', 'model-c'], 'the two largest backlogs first');
    const a = (await taskOf('model-a'))!;
    assert.equal(a.status, 'queued');
    const b = (await taskOf('model-b'))!;
    const c = (await taskOf('model-c'))!;
    // Priorities and their explanations, in the API.
    assert.ok(
      c.priority > b.priority && b.priority > a.priority,
      `${c.priority} > ${b.priority} > ${a.priority}`,
    );
    assert.equal(c.priority_explanation.source, 'signals');
    assert.match(c.priority_explanation.summary, /^backlog 3\.00×1 .*= /);
    assert.deepEqual(
      c.priority_explanation.terms.find((t) => t.signal === 'backlog'),
      { signal: 'backlog', value: 3, weight: 1, contribution: 3 },
    );
    assert.equal(c.requested_by, 'policy:training');
    assert.equal(c.phase, 'opened', "inside running, the phase is the cycle's");
    await sleep(1500);
    assert.equal((await running()).length, 2, 'the limit holds over several scheduler passes');

    await end('model-c');
    await waitFor('model-a to start', async () => (await taskOf('model-a'))?.status === 'running');
    assert.deepEqual(await running(), ['model-a', 'model-b']);
    const ended = (await taskOf('model-c'))!;
    assert.equal(ended.status, 'deployed');
    assert.ok(ended.result && ended.result.execution_seconds >= 0);
    const started = Date.parse((await taskOf('model-a'))!.started_at!);
    assert.ok(started >= Date.parse(ended.ended_at!), 'the third started after one ended');
  });

  it('lowers the concurrency limit when a worker reports memory over the threshold, and raises it after', async () => {
    assert.equal(await limitInForce(), 2);
    beatEvery(0.95);
    await waitFor('the limit to drop', async () => (await limitInForce()) === 1);
    // A slot frees, but under pressure only one task may run: model-d waits.
    await end('model-b');
    await storeLearnings(stack, 'model-d', 150);
    await waitFor('model-d queued', async () => (await taskOf('model-d'))?.status === 'queued');
    await sleep(1500);
    assert.equal((await taskOf('model-d'))!.status, 'queued');
    assert.deepEqual(await running(), ['model-a']);

    beatEvery(0.4);
    await waitFor('the limit to rise', async () => (await limitInForce()) === 2);
    await waitFor('model-d to start', async () => (await taskOf('model-d'))?.status === 'running');
    assert.deepEqual(await running(), ['model-a', 'model-d']);
    for (const t of beats.splice(0)) clearInterval(t);
  });

  it('stopped: no automatic task while learnings arrive, a custom task still runs; started: planning resumes', async () => {
    await end('model-a');
    await end('model-d');
    await waitFor('no task running', async () => (await running()).length === 0);

    const stop = await api('/api/v1/engine/loop/stop', { reason: 'maintenance' });
    assert.equal(stop.status, 200, stop.text);
    assert.equal(stop.body['running'], false);
    await storeLearnings(stack, 'model-e', 150);
    await sleep(2000);
    assert.equal(await taskOf('model-e'), undefined, 'no automatic task while stopped');
    const status = await api<{ improvement_active: boolean }>('/api/v1/engine/status');
    assert.equal(status.body.improvement_active, false);
    const [check] = await stack.db.query<{ decision: string }>(
      `SELECT decision FROM monitor_checks WHERE model_id = 'model-e'`,
    );
    assert.equal(check!.decision, 'loop_stopped');

    const custom = await api<TaskView>('/api/v1/tasks', {
      model_id: 'model-f',
      kind: 'training',
      priority: 5,
      target_metrics: { accuracy: 0.92 },
      constraints: { latency_target_ms: 500 },
      reason: 'new customer suite',
    });
    assert.equal(custom.status, 201, custom.text);
    assert.equal(custom.body.automatic, false);
    await waitFor('the custom task to start', async () => (await taskOf('model-f'))?.status === 'running');
    const duplicate = await api('/api/v1/tasks', { model_id: 'model-f' });
    assert.deepEqual([duplicate.status, duplicate.body['code']], [409, 'TASK_ALREADY_ACTIVE']);
    // Another kind for the same model is its own task: it waits while the model's cycle runs.
    const search = await api<TaskView>('/api/v1/tasks', { model_id: 'model-f', kind: 'architecture' });
    assert.equal(search.status, 201, search.text);
    assert.deepEqual([search.body.kind, search.body.status], ['architecture', 'queued']);
    const withdrawn = await api<TaskView>(`/api/v1/tasks/${search.body.id}/cancel`, {});
    assert.deepEqual([withdrawn.status, withdrawn.body.status], [200, 'cancelled']);
    const later = await api('/api/v1/tasks', { model_id: 'model-f', kind: 'distillation' });
    assert.deepEqual([later.status, later.body['code']], [422, 'KIND_NOT_AVAILABLE']);

    const start = await api('/api/v1/engine/loop/start', {});
    assert.equal(start.status, 200, start.text);
    await waitFor('model-e planned after start', async () => (await taskOf('model-e'))?.status === 'running');
  });

  it('cancels a queued task only', async () => {
    // Two run (model-e, model-f): a third waits and can be cancelled.
    const queued = await api<TaskView>('/api/v1/tasks', { model_id: 'model-g', priority: 0.5 });
    assert.equal(queued.status, 201, queued.text);
    await sleep(1000);
    assert.equal((await taskOf('model-g'))!.status, 'queued');
    const cancelled = await api<TaskView>(`/api/v1/tasks/${queued.body.id}/cancel`, {});
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.status, 'cancelled');
    const again = await api(`/api/v1/tasks/${queued.body.id}/cancel`, {});
    assert.deepEqual([again.status, again.body['code']], [409, 'TASK_NOT_QUEUED']);
    const runningOne = (await taskOf('model-f'))!;
    const refused = await api(`/api/v1/tasks/${runningOne.id}/cancel`, {});
    assert.equal(refused.status, 409);
    await stack.lastEvent(
      SUBJECTS.taskCancelled,
      (e) => (e.data as { task_id: string }).task_id === queued.body.id,
    );
  });

  it('two planners racing on the same model enqueue one task', async () => {
    await end('model-e');
    await end('model-f');
    await waitFor('no task running', async () => (await running()).length === 0);
    await storeLearnings(stack, 'model-h', 100, { publish: false });
    const env = { ...monitorEnv, GENESIS_TEST_HOLD_BEFORE_COMMIT_MS: '1500' };
    const runs = await Promise.all([runMonitorOnce(env), runMonitorOnce(env)]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM improvement_tasks WHERE model_id = 'model-h'`,
    );
    assert.equal(n, 1);
    const [{ cycles }] = await stack.db.query<{ cycles: number }>(
      `SELECT count(*)::int AS cycles FROM improvement_cycles WHERE model_id = 'model-h'`,
    );
    assert.equal(cycles, 1);
  });

  it('SIGKILL of the scheduler mid-task: the task ends exactly once after the restart', async () => {
    await waitFor('model-h running', async () => (await taskOf('model-h'))?.status === 'running');
    await monitor.kill('SIGKILL');
    const task = await end('model-h', 'rejected');
    await monitor.restart();
    await waitFor('model-h ended', async () => (await taskOf('model-h'))?.status === 'rejected');
    await sleep(1500);
    const events = (await stack.events<{ task_id: string; status: string }>(SUBJECTS.taskCompleted)).filter(
      (e) => e.data.task_id === task.id,
    );
    assert.equal(events.length, 1, 'one task.completed');
    assert.equal(events[0]!.data.status, 'rejected');
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM improvement_tasks WHERE model_id = 'model-h'`,
    );
    assert.equal(n, 1);
  });

  it('the history and the engine status equal what the tables hold', async () => {
    const before = await api<{ items: { iteration: number }[] }>('/api/v1/engine/history?limit=1');
    const last = before.body.items[0]?.iteration ?? 0;
    const forced = await api('/api/v1/engine/iterations', {});
    assert.equal(forced.status, 202, forced.text);
    await waitFor('a forced iteration', async () => {
      const h = await api<{ items: { iteration: number; trigger: string }[] }>(
        '/api/v1/engine/history?limit=1',
      );
      return h.body.items[0] && h.body.items[0].iteration > last && h.body.items[0].trigger === 'forced';
    });
    const history = await api<{
      items: {
        iteration: number;
        window_start: string | null;
        ended_at: string;
        tasks_completed: number;
        models_improved: number;
        total_gain: number;
        avg_execution_seconds: number | null;
        signals: Record<string, unknown>;
        resources: { concurrency: { limit: number } };
      }[];
    }>('/api/v1/engine/history?limit=1000');
    assert.equal(history.status, 200, history.text);
    for (const it of history.body.items) {
      const [row] = await stack.db.query<{ n: number; improved: number; gain: number; avg: number | null }>(
        `SELECT count(*)::int AS n, count(DISTINCT model_id) FILTER (WHERE status = 'deployed')::int AS improved,
                coalesce(sum((result ->> 'performance_gain')::float8), 0) AS gain,
                avg((result ->> 'execution_seconds')::float8) AS avg
         FROM improvement_tasks WHERE ended_at IS NOT NULL AND status <> 'cancelled'
           AND ended_at > coalesce($1::timestamptz, '-infinity') AND ended_at <= $2`,
        [it.window_start, it.ended_at],
      );
      assert.equal(it.tasks_completed, row!.n, `iteration ${it.iteration}`);
      assert.equal(it.models_improved, row!.improved, `iteration ${it.iteration}`);
      assert.equal(it.total_gain, row!.gain);
      assert.equal(it.avg_execution_seconds, row!.avg);
    }
    const total = history.body.items.reduce((n, it) => n + it.tasks_completed, 0);
    const [{ ended }] = await stack.db.query<{ ended: number }>(
      `SELECT count(*)::int AS ended FROM improvement_tasks WHERE ended_at IS NOT NULL AND status <> 'cancelled'
         AND ended_at <= $1`,
      [history.body.items[0]!.ended_at],
    );
    assert.equal(total, ended, 'every ended task is counted in exactly one iteration');
    const newest = history.body.items[0]!;
    assert.ok(newest.signals['model-a'], 'the signals seen per model');
    assert.equal(newest.resources.concurrency.limit, 2);

    const status = await api<Record<string, unknown>>('/api/v1/engine/status');
    const [counts] = await stack.db.query<{ deployed: number; running: number; iteration: number }>(
      `SELECT (SELECT count(*)::int FROM improvement_tasks WHERE status = 'deployed') AS deployed,
              (SELECT count(*)::int FROM improvement_tasks WHERE status = 'running') AS running,
              (SELECT max(iteration) FROM engine_iterations) AS iteration`,
    );
    assert.equal(status.body['total_improvements'], counts!.deployed);
    assert.equal(status.body['active_tasks'], counts!.running);
    assert.equal(status.body['iteration'], counts!.iteration);
    assert.equal(status.body['improvement_active'], true);
    assert.ok((status.body['models_registered'] as number) >= 8);
  });

  it('the genesis CLI lists tasks and history, stops and starts the loop, refuses a bad cancel', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [join(__dirname, '..', '..', 'cli', 'main.js'), ...args],
          {
            env: {
              PATH: process.env['PATH'] ?? '',
              GENESIS_URL: gateway.baseUrl,
              GENESIS_API_KEY: TEST_ADMIN_KEY,
            },
            timeout: 30_000,
          },
          (err, stdout, stderr) =>
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        ),
      );
    const listed = await cli('tasks', '--model-id', 'model-c', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const items = (JSON.parse(listed.stdout) as { items: TaskView[] }).items;
    assert.deepEqual(
      items.map((t) => [t.model_id, t.status]),
      [['model-c', 'deployed']],
    );
    const table = await cli('tasks', '--status', 'deployed');
    assert.match(table.stdout, /model-c\s+training\s+deployed\s+\d/);
    const stopped = await cli('loop', 'stop', '--reason', 'cli test');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /the improvement loop is stopped now/);
    assert.equal((await api<{ running: boolean }>('/api/v1/engine/loop')).body.running, false);
    const started = await cli('loop', 'start');
    assert.match(started.stdout, /the improvement loop is running now/);
    const history = await cli('history', '--limit', '3');
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^ITERATION\s+TRIGGER/);
    const bad = await cli('tasks', 'cancel', '0193f0b1-0000-7000-8000-000000000000', '--json');
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /TASK_NOT_FOUND/);
  });

  it('after three rejected training cycles in a row, new evidence opens an architecture task instead', async () => {
    const model = 'model-z';
    for (let i = 0; i < 3; i++) {
      const opened = await stack.db.dataSource.transaction((m) =>
        openCycle(m, { modelId: model, trigger: 'manual', reason: 'seed', counts: {}, now: new Date() }),
      );
      assert.ok(opened.opened);
      await finishCycle(stack, opened.cycle.id, 'rejected');
    }
    await storeLearnings(stack, model, 100);
    await waitFor('model-z planned', async () => (await taskOf(model)) !== undefined);
    const task = (await taskOf(model))!;
    assert.equal(task.kind, 'architecture', JSON.stringify(task));
    assert.equal(task.requested_by, 'policy:architecture');
    assert.match(task.reason, /3 training cycles in a row rejected/);
    assert.ok(task.priority_explanation.terms.length > 0, 'the priority is explained');
    if (task.cycle_id) {
      const [cycle] = await stack.db.query(`SELECT kind FROM improvement_cycles WHERE id = $1`, [
        task.cycle_id,
      ]);
      assert.equal(cycle.kind, 'architecture');
    } else {
      assert.equal(task.status, 'queued');
    }
  });

  it('every model and kind has its task series at zero in the metrics', async () => {
    const text = await (await fetch(`${monitor.baseUrl}/metrics`)).text();
    assert.equal(
      metricValue(text, 'genesis_engine_tasks_completed_total', {
        model_id: 'model-e',
        kind: 'architecture',
        outcome: 'deployed',
      }),
      0,
    );
    assert.equal(
      metricValue(text, 'genesis_engine_tasks_completed_total', {
        model_id: 'model-c',
        kind: 'training',
        outcome: 'deployed',
      }),
      1,
    );
    assert.equal(
      metricValue(text, 'genesis_engine_tasks_queued', { model_id: 'genesis', kind: 'training' }),
      0,
    );
  });
});
