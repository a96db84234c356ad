import type { TaskView } from './engine.format';

/** A task as GET /api/v1/tasks/{id} shows it, with its targets, constraints and result. */
export interface TaskDetail extends Omit<TaskView, 'result'> {
  started_at: string | null;
  ended_at: string | null;
  target_metrics: Record<string, number>;
  constraints: Record<string, number>;
  result: {
    performance_gain: number;
    measured_delta: number | null;
    execution_seconds: number;
    model_version: string | null;
    failure_reason: string | null;
    targets_met?: {
      all: boolean;
      metrics: Record<string, { target: number; value: number | null; met: boolean }>;
    } | null;
    constraints?:
      | {
          constraint: string;
          code: string;
          limit: number;
          source: string;
          value: number | null;
          ok: boolean | null;
        }[]
      | null;
  } | null;
}

const pairs = (o: Record<string, number>) =>
  Object.keys(o).length
    ? Object.entries(o)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '—';

/** `genesis tasks show`: the task, what it asked (targets, constraints) and what it reached (ADR 0027). */
export function formatTask(t: TaskDetail): string[] {
  const lines = [
    `task ${t.id}`,
    `  model ${t.model_id}, kind ${t.kind}, ${t.status === 'running' && t.phase ? `running (${t.phase})` : t.status}`,
    `  priority ${t.priority}: ${t.priority_explanation.summary}`,
    `  requested by ${t.requested_by}: ${t.reason}`,
    `  cycle ${t.cycle_id ?? '—'}; queued ${t.queued_at}, started ${t.started_at ?? '—'}, ended ${t.ended_at ?? '—'}`,
    `  targets ${pairs(t.target_metrics ?? {})}`,
    `  constraints ${pairs(t.constraints ?? {})}`,
  ];
  const r = t.result;
  if (!r) return lines;
  lines.push(
    `  result: gain ${r.performance_gain}${r.measured_delta === null ? '' : ` (measured delta ${r.measured_delta})`}, ${Math.round(r.execution_seconds)} s${r.model_version ? `, version ${r.model_version}` : ''}${r.failure_reason ? `, failed: ${r.failure_reason}` : ''}`,
  );
  const met = r.targets_met;
  if (met) {
    lines.push(`  targets ${met.all ? 'met' : 'NOT met'}:`);
    for (const [k, m] of Object.entries(met.metrics))
      lines.push(
        `    ${k} ${m.value === null ? 'not measured' : m.value} (target ${m.target}) ${m.met ? 'met' : 'not met'}`,
      );
  }
  for (const c of r.constraints ?? [])
    lines.push(
      `  constraint ${c.constraint} ≤ ${c.limit} (${c.source}): ${c.value === null ? 'not measured' : c.value} ${c.ok === null ? 'not judged' : c.ok ? 'kept' : `BROKEN (${c.code})`}`,
    );
  return lines;
}

/**
 * `--target accuracy=0.8,gain=0.02` or a JSON object: the body's target_metrics / constraints. The
 * API checks the keys and ranges (and lists the allowed ones); this only makes numbers of values.
 */
export function parseKeyValues(text: string): Record<string, unknown> | null {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(trimmed);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  const out: Record<string, unknown> = {};
  for (const part of trimmed
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z][a-z0-9_]*)=(.+)$/.exec(part);
    if (!m || !Number.isFinite(Number(m[2]))) return null;
    out[m[1]!] = Number(m[2]);
  }
  return Object.keys(out).length ? out : null;
}
