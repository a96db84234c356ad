import type { StudyDetail, StudyList, StudyProgress, StudyTrial } from './study';

const num = (v: unknown) =>
  typeof v === 'number'
    ? Math.abs(v) < 1e-3 && v !== 0
      ? v.toExponential(2)
      : String(+v.toFixed(4))
    : String(v);
const params = (p: Record<string, unknown> | null | undefined) =>
  p
    ? Object.entries(p)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : num(v)}`)
        .join(' ')
    : '—';

/** `genesis studies`: the adopted training configuration, then one line per study. */
export function formatStudyList(list: StudyList): string[] {
  const lines = [
    `training configuration of ${list.model_id}: ${
      list.training_config
        ? `${params(list.training_config.hyperparameters)} (from ${list.training_config.study_name})`
        : "the worker's defaults (no architecture study deployed yet)"
    }`,
  ];
  if (!list.items.length) return [...lines, 'no studies yet: genesis studies start'];
  for (const s of list.items) {
    const best = s.best ? `best #${s.best.trial} loss ${num(s.best.value)}` : 'no best yet';
    lines.push(
      `${s.study}  ${s.status}  cycle ${s.cycle_status}  ${s.trials} trials (${s.pruned} pruned)  ${best}${s.adopted ? '  [adopted]' : ''}`,
    );
  }
  return lines;
}

function trialLine(t: StudyTrial): string {
  const pruned = t.state === 'pruned' && t.pruned_at_step ? ` at step ${t.pruned_at_step}` : '';
  const by = t.worker_id ? `  (${t.worker_id})` : '';
  return `  #${t.number}  ${t.state}${pruned}  loss ${t.value === null ? '—' : num(t.value)}  ${params(t.params)}${by}`;
}

/** The bridge's live view: trial jobs in flight, and which budget ended the study once one did. */
function progressLine(p: StudyProgress): string {
  const end = p.stopped_by ? `; stopped by its ${p.stopped_by.replace('_', '-')} budget` : '';
  return `progress: ${p.trials_finished} finished, ${p.trials_running} in flight (parallelism ${p.parallelism}), ${p.trials_failed} trial job(s) failed, ${num(p.worker_seconds_spent)} worker-seconds${end}`;
}

/** `genesis studies show STUDY`: budget, counts, best, importance, every trial. */
export function formatStudy(s: StudyDetail): string[] {
  const c = s.counts;
  const lines = [
    `study ${s.study} (${s.status}) of ${s.model_id}, cycle ${s.cycle_id} (${s.cycle_status})`,
    `budget: ${s.budget['trials'] ?? '—'} trials, ${s.budget['worker_seconds'] ?? '—'} worker-seconds; spent: ${
      s.spent ? `${s.spent.trials} trials, ${num(s.spent.worker_seconds)} s` : '—'
    }`,
    `trials: ${c['complete'] ?? 0} complete, ${c['pruned'] ?? 0} pruned, ${c['fail'] ?? 0} failed`,
    ...(s.progress ? [progressLine(s.progress)] : []),
    s.validation
      ? `validation: ${s.validation.validation_records} records (training ${s.validation.train_records}; ${s.validation.suite_excluded} left out for matching the frozen suite)`
      : 'validation: —',
    s.best
      ? `best: trial #${s.best.trial}, validation loss ${num(s.best.value)}: ${params(s.best.hyperparameters)}${s.adopted ? ' [the training configuration now]' : ''}`
      : 'best: —',
    s.importance.values
      ? `importance: ${Object.entries(s.importance.values)
          .map(([k, v]) => `${k} ${num(v)}`)
          .join(', ')}`
      : `importance: — (${s.importance.reason ?? 'none'})`,
  ];
  if (s.candidate_version) lines.push(`candidate: ${s.candidate_version}`);
  if (s.failure) lines.push(`failure: ${s.failure}`);
  return [...lines, 'trials:', ...s.trials.map(trialLine)];
}
