import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ServiceProcess,
  TestStack,
  WorkerProcess,
  freePort,
  request,
  waitFor,
  workerAvailable,
} from '@genesis/testing';
import {
  dashboardQueries,
  genesisMetricNames,
  ruleQueries,
  variableQueries,
  type Query,
} from './observability-files';

const APPS = ['gateway', 'learner', 'monitor', 'trainer-bridge', 'evaluator', 'deployer'] as const;
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** name → `# TYPE` of every metric a service's /metrics describes. */
function describedMetrics(exposition: string): Map<string, string> {
  const help = new Set([...exposition.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]!));
  const types = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (help.has(m[1]!)) types.set(m[1]!, m[2]!);
  }
  return types;
}

/**
 * A dashboard or an alert that reads a metric nobody exports shows "No data" or never fires, and
 * nothing else would notice: every `genesis_*` name the dashboard and the rules query must be
 * described (`# HELP`) on the /metrics of at least one running service or the Python worker. A histogram's `_bucket`,
 * `_sum` and `_count` series count as the histogram.
 */
describe('metrics the dashboard and the alerts query', () => {
  let stack: TestStack;
  let worker: WorkerProcess | undefined;
  const running: ServiceProcess[] = [];
  const exported = new Map<string, Map<string, string>>();

  before(async () => {
    stack = await TestStack.start();
    running.push(
      ...(await Promise.all(APPS.map((app) => ServiceProcess.start(app, stack.env(), { waitReady: false })))),
    );
    // Six Node processes booting at once on a busy CI machine: more than the default 30 s.
    await Promise.all(running.map((s) => s.ready(120_000)));
    for (const service of running) {
      const res = await request(service.baseUrl, '/metrics');
      assert.equal(res.status, 200, `${service.app} /metrics: ${res.text.slice(0, 500)}`);
      exported.set(service.app, describedMetrics(res.text));
    }
    // The Python worker serves its own (ADR 0023); npm test always creates its environment.
    assert.ok(workerAvailable(), 'the Python worker environment is missing (npm test creates it)');
    const port = await freePort();
    const w = new WorkerProcess({
      NATS_URL: stack.nats.url,
      GENESIS_WORKER_METRICS_PORT: String(port),
    }).start();
    worker = w;
    const metrics = await waitFor(
      'the worker /metrics',
      async () => {
        const res = await request(`http://127.0.0.1:${port}`, '/metrics').catch(() => undefined);
        return res?.status === 200 && res.text.includes('genesis_worker_slots') ? res.text : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker: ${w.logs.slice(-2000)}`);
    });
    exported.set('trainer-worker', describedMetrics(metrics));
  });

  after(async () => {
    await Promise.all([...running.map((s) => s.stop()), worker?.stop()]);
    await stack?.dispose();
  });

  /** The services exporting `name` (or, for a histogram series, its histogram). */
  function exporters(name: string): string[] {
    const base = name.replace(HISTOGRAM_SERIES, '');
    return [...exported].flatMap(([app, metrics]) => {
      if (metrics.has(name)) return [app];
      const type = metrics.get(base);
      return base !== name && (type === 'histogram' || type === 'summary') ? [app] : [];
    });
  }

  function check(queries: Query[], what: string): void {
    const usedBy = new Map<string, string[]>();
    for (const q of queries) {
      for (const name of genesisMetricNames(q.expr)) usedBy.set(name, [...(usedBy.get(name) ?? []), q.where]);
    }
    assert.ok(usedBy.size > 0, `${what}: no genesis_* metric found in its queries`);
    const missing = [...usedBy.keys()].filter((name) => exporters(name).length === 0);
    const report = missing.map((name) => `  ${name}  (used by ${usedBy.get(name)!.join('; ')})`).join('\n');
    assert.deepEqual(
      missing,
      [],
      `${missing.length} of the ${usedBy.size} genesis_* metrics ${what} queries are exported by no service:\n${report}`,
    );
  }

  it('the Grafana dashboard (panels, annotations, variables)', () => {
    check([...dashboardQueries(), ...variableQueries()], 'the dashboard');
  });

  it('the Prometheus alerting and recording rules', () => {
    check(ruleQueries(), 'the rules');
  });
});
