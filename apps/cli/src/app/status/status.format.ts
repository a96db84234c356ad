import type { ImprovementStatus } from '@genesis/cycles';
import type { ModelList } from '../models/model';
import { fields, num, when } from '../output/format';

/**
 * The spec's status document for people: every field, and the trigger decision spelled out. The
 * spec's training_runs and last_training_time count deployments (a training whose candidate was
 * rejected is not a run), so they are labelled as such, and the trained candidates from the
 * registry (when given) are shown beside them.
 */
export function formatStatus(
  modelId: string,
  s: ImprovementStatus,
  now = new Date(),
  registry?: ModelList,
  registryPage = Infinity,
): string[] {
  const rows: [string, string][] = [
    ['model', modelId],
    ['current model', s.current_model ?? 'none deployed yet'],
    ['training runs (deployed)', String(s.training_runs)],
    ['last training (deployed)', s.last_training_time ? when(s.last_training_time, now) : 'never'],
  ];
  if (registry) rows.push(['trained candidates', candidatesText(registry, registryPage, now)]);
  rows.push(
    ['learnings since training', String(s.learnings_since_training)],
    ['improvement score', s.improvement_score === null ? '—' : num(s.improvement_score)],
    ['last check', s.last_check_time ? when(s.last_check_time, now) : 'not checked yet'],
  );
  return [...fields(rows), '', `${s.should_trigger ? 'Trigger: YES' : 'Trigger: no'} — ${s.trigger_reason}`];
}

/** `3 (1 champion, 2 rejected), latest 2026-… (5m ago)`: every version the registry holds. */
function candidatesText(registry: ModelList, page: number, now: Date): string {
  const items = registry.items;
  if (items.length === 0) return 'none yet';
  const byStatus = new Map<string, number>();
  for (const v of items) byStatus.set(v.status, (byStatus.get(v.status) ?? 0) + 1);
  const parts = [...byStatus].map(([status, n]) => `${n} ${status}`).join(', ');
  const count = items.length >= page ? `${items.length}+` : String(items.length);
  const newest = items.reduce((a, b) => (a.created_at >= b.created_at ? a : b));
  return `${count} (${parts}), latest ${newest.version} ${when(newest.created_at, now)}`;
}
