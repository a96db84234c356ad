import { metricText } from '../cycles/cycles.format';
import { ago, fields, num, short, table, time, truncate, when } from '../output/format';
import type { AliasMove, ModelDetail, ModelList, RollbackStatus, SnapshotRef } from './model';

/** The registry, newest first; the champion marked with `*`. */
export function formatModelList(list: ModelList, now = new Date()): string[] {
  if (list.items.length === 0)
    return ['no model versions yet (a cycle registers one when training completes)'];
  const lines = table(
    ['', 'VERSION', 'STATUS', 'ACCURACY', 'PARENT', 'CYCLE', 'CREATED'],
    list.items.map((m) => [
      m.version === list.champion ? '*' : '',
      m.version,
      m.tainted ? `${m.status} (tainted)` : m.status,
      num(m.metrics?.['accuracy']),
      m.parent_version ?? '—',
      short(m.cycle_id),
      ago(m.created_at, now),
    ]),
  );
  lines.push('', list.champion ? `champion: ${list.champion}` : 'no champion yet: the base model serves');
  return lines;
}

/** One version: what it is, where it comes from, how it was judged, and every move of the alias. */
export function formatModel(m: ModelDetail, now = new Date()): string[] {
  const lineage = m.lineage;
  const rows: [string, string][] = [
    ['status', m.status],
    ['model', m.model_id],
    ['base model', m.base_model],
    ['parent', m.parent_version ?? '— (trained from the base model)'],
    ['cycle', m.cycle_id ?? '—'],
    ['created', when(m.created_at, now)],
  ];
  const metrics = metricText(m.metrics ?? undefined);
  if (metrics) rows.push(['metrics', metrics]);
  for (const t of m.taints ?? []) rows.push(['TAINTED', `${t.reason} (rescan ${short(t.rescan_id)})`]);
  const lines = [`Model ${m.version}`, ...fields(rows, '  ')];
  if (lineage) {
    lines.push(
      'Lineage',
      ...fields(
        [
          ['snapshot', snapshotText(lineage.snapshot)],
          [
            'learnings',
            `${lineage.learning_ids.length}${lineage.learning_ids.length ? ` (${lineage.learning_ids.slice(0, 3).map(short).join(', ')}${lineage.learning_ids.length > 3 ? ', …' : ''})` : ''}`,
          ],
        ],
        '  ',
      ),
    );
  }
  lines.push('Evaluation', ...(m.evaluation ? evaluationLines(m.evaluation) : ['  not evaluated']));
  lines.push(
    'Alias history',
    ...(m.alias_history.length ? m.alias_history.map(aliasLine) : ['  never champion']),
  );
  return lines;
}

function snapshotText(snapshot: SnapshotRef | null | undefined): string {
  if (!snapshot) return '—';
  return (
    `${snapshot.id} (sha256 ${snapshot.sha256.slice(0, 12)}…, ${snapshot.train_records} train + ` +
    `${snapshot.replay_records} replay records, ${snapshot.eval_records} held out)`
  );
}

function evaluationLines(e: Record<string, unknown>): string[] {
  const rows: [string, string][] = [];
  const decision = typeof e['decision'] === 'string' ? e['decision'] : undefined;
  const reason = typeof e['reason'] === 'string' ? e['reason'] : undefined;
  rows.push(['decision', `${decision ?? '—'}${reason ? ` — ${truncate(reason, 100)}` : ''}`]);
  if (typeof e['p_value'] === 'number') rows.push(['p-value', num(e['p_value'], 4)]);
  const metrics = metricText(e['metrics'] as Record<string, unknown> | undefined);
  if (metrics) rows.push(['metrics', metrics]);
  return fields(rows, '  ');
}

function aliasLine(a: AliasMove): string {
  const who = a.actor ? ` by ${a.actor}` : '';
  const why = a.reason ? `: ${truncate(a.reason, 80)}` : '';
  return `  ${time(a.moved_at)}  ${a.kind.padEnd(9)} ${a.alias} ${a.from_version ?? '—'} → ${a.to_version}${who}${why}`;
}

export function formatRollback(s: RollbackStatus, modelId: string): string {
  if (s.status === 'succeeded')
    return `rolled back ${modelId}: ${s.from_version ?? '—'} → ${s.to_version ?? '—'}`;
  if (s.status === 'failed') return `rollback of ${modelId} failed: ${failureText(s.failure)}`;
  return `rollback of ${modelId} is still pending`;
}

export function failureText(failure: RollbackStatus['failure']): string {
  if (!failure) return 'no reason given';
  if (typeof failure === 'string') return failure;
  return [failure.code, failure.message].filter(Boolean).join(': ') || 'no reason given';
}
