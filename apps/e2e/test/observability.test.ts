import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  GRAFANA_PROVISIONING_DIR,
  PROMETHEUS_DIR,
  REPO,
  allPanels,
  dashboardQueries,
  readDashboard,
  readRules,
  readYaml,
  ruleFiles,
  ruleTestFiles,
  substituteGrafanaVariables,
  type DashboardPanel,
} from './observability-files';

const APPS = [
  'gateway',
  'learner',
  'monitor',
  'trainer-bridge',
  'evaluator',
  'deployer',
  'trainer-worker',
  'embedder',
];
const PORT_VARS: Record<string, string> = {
  gateway: 'GENESIS_GATEWAY_PORT',
  learner: 'GENESIS_LEARNER_PORT',
  monitor: 'GENESIS_MONITOR_PORT',
  'trainer-bridge': 'GENESIS_TRAINER_BRIDGE_PORT',
  evaluator: 'GENESIS_EVALUATOR_PORT',
  deployer: 'GENESIS_DEPLOYER_PORT',
  'trainer-worker': 'GENESIS_WORKER_METRICS_PORT',
  embedder: 'GENESIS_EMBEDDER_PORT',
};
const DS_VARIABLE = 'DS_PROMETHEUS';
const DS_REF = { type: 'prometheus', uid: `\${${DS_VARIABLE}}` };
const GRAFANA_BUILTIN_VARIABLES = ['__rate_interval', '__range', '__interval', '__all'];

/** Runs promtool; the assertion message is its whole output. */
function promtool(...args: string[]): string {
  const result = spawnSync('promtool', args, { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    assert.fail('promtool is not installed: run tools/infra/ensure-promtool.sh (npm test does)');
  }
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

describe('Prometheus rules and config (promtool)', () => {
  it('promtool check rules: every rules file is valid', () => {
    promtool('check', 'rules', ...ruleFiles());
  });

  it('promtool check config: prometheus.yml is valid and loads the rules', () => {
    const output = promtool('check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml'));
    for (const file of ruleFiles()) assert.ok(output.includes(`Checking ${file}`), output);
  });

  it('promtool test rules: the alerts fire and stay silent as their unit tests say', () => {
    promtool('test', 'rules', ...ruleTestFiles());
  });

  it('every alert is labelled, explained and unit-tested both ways (fires, stays silent)', () => {
    const cases = ruleTestFiles().flatMap((file) =>
      readYaml<{ tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }>(
        file,
      ).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    const alerts = readRules().filter(({ rule }) => rule.alert);
    assert.ok(alerts.length >= 7, `only ${alerts.length} alerts`);
    for (const { rule } of alerts) {
      const name = rule.alert!;
      assert.match(rule.labels?.['severity'] ?? '', /^(critical|warning|info)$/, `${name}: severity`);
      for (const key of ['summary', 'description', 'runbook']) {
        assert.ok(rule.annotations?.[key]?.trim(), `${name}: annotation ${key} is missing`);
      }
      const mine = cases.filter((c) => c.alertname === name);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name}: no unit test where it fires`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name}: no unit test where it stays silent`,
      );
    }
  });

  it('scrapes every service at the port docker-compose gives it, by a job named after it', () => {
    const config = readYaml<{
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    }>(join(PROMETHEUS_DIR, 'prometheus.yml'));
    const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment: Record<string, string> }>;
    };
    for (const app of APPS) {
      const port = compose.services[app]!.environment[PORT_VARS[app]!];
      const job = config.scrape_configs.find((c) => c.job_name === app);
      assert.ok(job, `no scrape job for ${app}`);
      const targets = job.static_configs.flatMap((s) => s.targets);
      assert.ok(
        targets.includes(`${app}:${port}`),
        `${app}: scrapes ${targets.join(', ')}, not ${app}:${port}`,
      );
    }
  });
});

describe('Grafana dashboard (deploy/grafana/dashboards/genesis.json)', () => {
  const dashboard = readDashboard();
  const panels = allPanels(dashboard);
  const dataPanels = panels.filter((p) => p.type !== 'row');
  const sameRef = (ref: unknown) => JSON.stringify(ref) === JSON.stringify(DS_REF);

  it('is a dashboard Grafana 11 loads: uid, title, schemaVersion ≥ 39', () => {
    assert.match(dashboard.uid ?? '', /^[a-zA-Z0-9_-]{1,40}$/);
    assert.ok(dashboard.title);
    assert.ok((dashboard.schemaVersion ?? 0) >= 39, `schemaVersion ${dashboard.schemaVersion}`);
  });

  it('has unique integer panel ids and panels that fit the 24-column grid without overlapping', () => {
    const ids = panels.map((p) => p.id);
    for (const id of ids) assert.ok(Number.isInteger(id) && (id as number) > 0, `panel id ${String(id)}`);
    assert.equal(new Set(ids).size, ids.length, `duplicate panel ids: ${ids.join(',')}`);
    const boxes = panels.map((p) => ({ p, g: p.gridPos! }));
    for (const { p, g } of boxes) {
      assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `panel ${String(p.id)} gridPos`);
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap =
          a.g.x < b.g.x + b.g.w && b.g.x < a.g.x + a.g.w && a.g.y < b.g.y + b.g.h && b.g.y < a.g.y + a.g.h;
        assert.ok(!overlap, `panels ${String(a.p.id)} and ${String(b.p.id)} overlap`);
      }
    }
  });

  it('every panel has targets, every target an expr and a unique refId', () => {
    assert.ok(dataPanels.length >= 20, `only ${dataPanels.length} panels`);
    for (const p of dataPanels) {
      const label = `panel ${String(p.id)} "${p.title}"`;
      assert.ok(p.title, `panel ${String(p.id)} has no title`);
      assert.ok((p.targets ?? []).length > 0, `${label} has no targets`);
      for (const t of p.targets!) assert.ok(t.expr?.trim(), `${label} target ${t.refId} has no expr`);
      const refs = p.targets!.map((t) => t.refId);
      assert.equal(new Set(refs).size, refs.length, `${label}: refIds ${refs.join(',')}`);
    }
  });

  it('uses one datasource everywhere: the ${DS_PROMETHEUS} variable', () => {
    const variable = dashboard.templating.list.find((v) => v.name === DS_VARIABLE);
    assert.ok(variable, `no ${DS_VARIABLE} variable`);
    assert.equal(variable.type, 'datasource');
    assert.equal(variable.query, 'prometheus');
    const bad = (p: DashboardPanel) =>
      !sameRef(p.datasource) || (p.targets ?? []).some((t) => !sameRef(t.datasource));
    assert.deepEqual(
      dataPanels.filter(bad).map((p) => `${String(p.id)} ${p.title}`),
      [],
      'panels or targets with another datasource',
    );
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
      assert.ok(sameRef(v.datasource), `variable ${v.name}: datasource`);
    }
    for (const a of dashboard.annotations?.list ?? []) {
      if (!a.builtIn) assert.ok(sameRef(a.datasource), `annotation ${a.name}: datasource`);
    }
  });

  it('defines every variable its queries use, and a model_id variable', () => {
    const names = new Set([...dashboard.templating.list.map((v) => v.name), ...GRAFANA_BUILTIN_VARIABLES]);
    assert.ok(names.has('model_id'), 'no model_id variable');
    for (const q of dashboardQueries(dashboard)) {
      for (const m of q.expr.matchAll(/\$\{?(\w+)/g)) {
        assert.ok(names.has(m[1]!), `${q.where}: unknown variable $${m[1]}`);
      }
    }
  });

  it('every query is valid PromQL (promtool check rules over them)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'genesis-dashboard-'));
    try {
      const queries = dashboardQueries(dashboard);
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(
        file,
        stringify({
          groups: [
            {
              name: 'dashboard',
              rules: queries.map((q, i) => ({
                record: `dashboard_query_${i}`,
                expr: substituteGrafanaVariables(q.expr),
              })),
            },
          ],
        }),
      );
      const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
        assert.fail('promtool is not installed: run tools/infra/ensure-promtool.sh (npm test does)');
      }
      const output = `${result.stdout}${result.stderr}`;
      // promtool names the failing rule by its index: map it back to the panel.
      const named = output.replace(/dashboard_query_(\d+)/g, (_, i: string) => queries[Number(i)]!.where);
      assert.equal(result.status, 0, `dashboard queries that are not PromQL:\n${named}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('provisioning in docker-compose.yml', () => {
  type Service = { volumes?: string[] };
  const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const mount = (service: string, source: string): string | undefined =>
    compose.services[service]?.volumes?.map((v) => v.split(':')).find(([from]) => from === source)?.[1];

  it('Prometheus gets its rules where prometheus.yml looks for them', () => {
    const config = readYaml<{ rule_files: string[] }>(join(PROMETHEUS_DIR, 'prometheus.yml'));
    const configAt = mount('prometheus', './deploy/prometheus/prometheus.yml');
    const rulesAt = mount('prometheus', './deploy/prometheus/rules');
    assert.ok(configAt && rulesAt, 'prometheus must mount prometheus.yml and rules/');
    for (const pattern of config.rule_files) {
      const resolved = posix.join(posix.dirname(configAt), pattern);
      assert.equal(posix.dirname(resolved), rulesAt, `rule_files ${pattern} → ${resolved}`);
    }
  });

  it('Grafana gets the datasource the dashboard selects and the dashboards folder its provider reads', () => {
    assert.equal(mount('grafana', './deploy/grafana/provisioning'), '/etc/grafana/provisioning');
    const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      join(GRAFANA_PROVISIONING_DIR, 'datasources', 'prometheus.yml'),
    ).datasources;
    const variable = readDashboard().templating.list.find((v) => v.name === DS_VARIABLE);
    const uid = variable?.current?.value;
    const ds = datasources.find((d) => d.uid === uid);
    assert.ok(ds, `the dashboard's default datasource ${String(uid)} is not provisioned`);
    assert.equal(ds.type, 'prometheus');
    assert.equal(new URL(ds.url).host, 'prometheus:9090');
    const providers = readYaml<{ providers: { options: { path: string } }[] }>(
      join(GRAFANA_PROVISIONING_DIR, 'dashboards', 'genesis.yml'),
    ).providers;
    const dashboardsAt = mount('grafana', './deploy/grafana/dashboards');
    assert.ok(
      providers.some((p) => p.options.path === dashboardsAt),
      `no dashboard provider reads ${dashboardsAt}`,
    );
  });
});
