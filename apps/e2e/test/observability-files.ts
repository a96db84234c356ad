import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The observability-as-code files (ADR 0008) and the PromQL they hold, for the tests that check them. */
export const REPO = join(__dirname, '..', '..', '..', '..');
export const PROMETHEUS_DIR = join(REPO, 'deploy', 'prometheus');
export const RULES_DIR = join(PROMETHEUS_DIR, 'rules');
export const RULE_TESTS_DIR = join(PROMETHEUS_DIR, 'tests');
export const DASHBOARD_FILE = join(REPO, 'deploy', 'grafana', 'dashboards', 'genesis.json');
export const GRAFANA_PROVISIONING_DIR = join(REPO, 'deploy', 'grafana', 'provisioning');

export interface DashboardTarget {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id?: unknown;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
  datasource?: { type?: string; uid?: string };
  current?: { value?: unknown };
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
  annotations?: {
    list: { name: string; expr?: string; builtIn?: number; datasource?: { type?: string; uid?: string } }[];
  };
}

export interface AlertingRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A PromQL expression and where it is used (for messages). */
export interface Query {
  where: string;
  expr: string;
}

export const readDashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;

export const ruleFiles = (): string[] =>
  readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(RULES_DIR, f));

export const ruleTestFiles = (): string[] =>
  readdirSync(RULE_TESTS_DIR)
    .filter((f) => f.endsWith('.test.yml'))
    .map((f) => join(RULE_TESTS_DIR, f));

export const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;

/** Every rule of every rules file, with its group. */
export function readRules(): { file: string; group: string; rule: AlertingRule }[] {
  return ruleFiles().flatMap((file) =>
    readYaml<{ groups: { name: string; rules: AlertingRule[] }[] }>(file).groups.flatMap((g) =>
      g.rules.map((rule) => ({ file, group: g.name, rule })),
    ),
  );
}

/** Panels, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** The PromQL of every panel target and annotation (template variable queries are not PromQL). */
export function dashboardQueries(dashboard: Dashboard = readDashboard()): Query[] {
  const out: Query[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const t of panel.targets ?? []) {
      if (t.expr) out.push({ where: `panel ${String(panel.id)} "${panel.title}" ${t.refId}`, expr: t.expr });
    }
  }
  for (const a of dashboard.annotations?.list ?? []) {
    if (a.expr) out.push({ where: `annotation "${a.name}"`, expr: a.expr });
  }
  return out;
}

/** The metrics template variables query (`label_values(metric, label)`). */
export function variableQueries(dashboard: Dashboard = readDashboard()): Query[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({ where: `variable ${v.name}`, expr: v.definition ?? JSON.stringify(v.query) }));
}

export function ruleQueries(): Query[] {
  return readRules().map(({ group, rule }) => ({
    where: `rule ${rule.alert ?? rule.record} (${group})`,
    expr: rule.expr,
  }));
}

/**
 * Grafana's variables replaced by plausible values, so the expression is plain PromQL that
 * promtool can parse.
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '6h')
    .replace(/\$__interval|\$\{__interval\}/g, '15s')
    .replace(/\$\{?model_id\}?/g, '.*');
}

/**
 * The Genesis metric names an expression reads, found loosely: any `genesis_…` identifier (not
 * recording rules' `genesis:…` names, not label values in quotes that merely start with it).
 */
export function genesisMetricNames(expr: string): string[] {
  const names = new Set<string>();
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of unquoted.matchAll(/(?<![\w:])genesis_[A-Za-z0-9_]*[A-Za-z0-9]\b(?!:)/g)) names.add(m[0]);
  return [...names].sort();
}
