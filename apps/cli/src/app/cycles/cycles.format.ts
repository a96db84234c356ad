import { ago, bar, duration, fields, num, table, time, truncate, when } from '../output/format';
import {
  PHASES,
  isTerminal,
  type CycleDetail,
  type CycleView,
  type Evaluation,
  type EvaluationSlices,
  type TrainingJob,
} from './cycle';

export function formatCycleList(items: CycleView[], now = new Date()): string[] {
  if (items.length === 0) return ['no improvement cycles yet (`genesis trigger` opens one)'];
  return table(
    ['ID', 'MODEL', 'STATUS', 'TRIGGER', 'OPENED', 'VERSION', 'SCORE'],
    items.map((c) => [
      c.id,
      c.model_id,
      c.status,
      c.trigger,
      ago(c.opened_at, now),
      c.model_version ?? '—',
      num(c.score),
    ]),
  );
}

/** One cycle: where it is, how training goes, what the evaluation decided, and its timeline. */
export function formatCycle(c: CycleDetail, evaluation: Evaluation | null, now = new Date()): string[] {
  const inPhase = isTerminal(c.status)
    ? `since ${ago(c.phase_entered_at, now)}`
    : `for ${duration(now.getTime() - new Date(c.phase_entered_at).getTime())}`;
  const rows: [string, string][] = [
    ['status', `${c.status} (${inPhase})`],
    ['trigger', `${c.trigger} — ${c.reason}`],
    ['opened', when(c.opened_at, now)],
    ['phases', phases(c)],
  ];
  if (c.snapshot_id) rows.push(['snapshot', c.snapshot_id]);
  if (c.model_version) rows.push(['version', c.model_version]);
  if (c.score !== null) rows.push(['score', num(c.score)]);
  if (c.failure_reason)
    rows.push(['failure', `${c.failed_phase ? `in ${c.failed_phase}: ` : ''}${c.failure_reason}`]);
  const lines = [`Cycle ${c.id} (model ${c.model_id})`, ...fields(rows, '  ')];
  if (c.training.length > 0) lines.push('Training', ...c.training.map((j) => `  ${trainingLine(j)}`));
  if (evaluation) lines.push('Evaluation', ...formatEvaluation(evaluation));
  if (c.timeline.length > 0) {
    lines.push('Timeline');
    for (const t of c.timeline) {
      const event = t.event_type ? `  ${t.event_type}` : '';
      const reason = t.reason ? `  ${truncate(t.reason, 80)}` : '';
      lines.push(`  ${time(t.at)}  ${t.from ?? '—'} → ${t.to}${event}${reason}`);
    }
  }
  return lines;
}

/** `opened → dataset_ready +3s → training +1s`: the phases reached, with the time each took to reach. */
function phases(c: CycleDetail): string {
  const reached = PHASES.filter((p) => c.timestamps[p]).map((p) => ({
    p,
    at: new Date(c.timestamps[p]!).getTime(),
  }));
  return reached
    .map(({ p, at }, i) => (i === 0 ? p : `${p} +${duration(at - reached[i - 1]!.at)}`))
    .join(' → ');
}

export function trainingLine(j: TrainingJob): string {
  const p = j.progress;
  const head = `attempt ${j.attempt} ${j.status.padEnd(9)}`;
  if (j.failure) return `${head} ${j.failure}`;
  if (!p || !p.total_steps) return `${head} waiting for the worker's first progress report`;
  const step = p.step ?? 0;
  const parts = [
    `${bar(step / p.total_steps)} ${step}/${p.total_steps} steps`,
    p.loss !== null && p.loss !== undefined ? `loss ${num(p.loss, 4)}` : undefined,
    p.tokens_per_second ? `${Math.round(p.tokens_per_second)} tok/s` : undefined,
    j.status === 'running' && p.eta_seconds !== undefined
      ? `ETA ${duration(p.eta_seconds * 1000)}`
      : undefined,
  ];
  return `${head} ${parts.filter(Boolean).join('  ')}`;
}

export function formatEvaluation(e: Evaluation): string[] {
  const rows: [string, string][] = [['decision', `${e.decision ?? '—'}${e.reason ? ` — ${e.reason}` : ''}`]];
  if (e.p_value !== undefined && e.p_value !== null) rows.push(['p-value', num(e.p_value, 4)]);
  const metrics = metricText(e.metrics);
  if (metrics) rows.push(['metrics', metrics]);
  return [...fields(rows, '  '), ...formatSlices(e.slices)];
}

/** The evaluation's topic slices (ADR 0020): one line each, the regressed and untestable marked. */
export function formatSlices(s: EvaluationSlices | null | undefined): string[] {
  if (!s) return [];
  const gate = s.enabled === false ? ', not gated' : '';
  if (!s.clustering_version) return [`  slices  none${s.note ? ` (${s.note})` : ''}`];
  const rows = (s.slices ?? []).map((x) => [
    x.slice_id,
    truncate(x.label, 40),
    String(x.items),
    `${num(x.champion_accuracy)} → ${num(x.candidate_accuracy)}`,
    `${x.delta >= 0 ? '+' : ''}${num(x.delta)}`,
    x.adjusted_p === null ? '—' : num(x.adjusted_p, 4),
    x.status,
  ]);
  const unsliced = s.unsliced_items ? [`  ${s.unsliced_items} in-domain items in no slice`] : [];
  return [
    `  slices (Holm, α=${s.alpha ?? '—'}${gate})`,
    ...table(['SLICE', 'LABEL', 'ITEMS', 'ACCURACY', 'DELTA', 'ADJ. P', 'STATUS'], rows).map(
      (l) => `    ${l}`,
    ),
    ...unsliced,
  ];
}

/** `accuracy 0.91, bleu 0.3` from flat numbers, or `accuracy 0.9 → 0.93` from {champion, candidate} pairs. */
export function metricText(metrics: Record<string, unknown> | undefined): string {
  if (!metrics) return '';
  return Object.entries(metrics)
    .map(([k, v]) => {
      if (typeof v === 'number') return `${k} ${num(v)}`;
      if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if ('candidate' in o || 'champion' in o) return `${k} ${num(o['champion'])} → ${num(o['candidate'])}`;
      }
      return undefined;
    })
    .filter(Boolean)
    .join(', ');
}

/** What changed between two polls (for --watch output that is not a terminal): status and progress. */
export function cycleSignature(c: CycleDetail): string {
  const j = c.training[0];
  return JSON.stringify([c.status, c.evaluation_id ?? null, j?.status, j?.progress?.step, j?.failure]);
}
