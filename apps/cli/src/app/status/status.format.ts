import type { ImprovementStatus } from '@genesis/cycles';
import { fields, num, when } from '../output/format';

/** The spec's status document for people: every field, and the trigger decision spelled out. */
export function formatStatus(modelId: string, s: ImprovementStatus, now = new Date()): string[] {
  return [
    ...fields([
      ['model', modelId],
      ['current model', s.current_model ?? 'none deployed yet'],
      ['training runs', String(s.training_runs)],
      ['last training', s.last_training_time ? when(s.last_training_time, now) : 'never'],
      ['learnings since training', String(s.learnings_since_training)],
      ['improvement score', s.improvement_score === null ? '—' : num(s.improvement_score)],
      ['last check', s.last_check_time ? when(s.last_check_time, now) : 'not checked yet'],
    ]),
    '',
    `${s.should_trigger ? 'Trigger: YES' : 'Trigger: no'} — ${s.trigger_reason}`,
  ];
}
