import type { EventEnvelope } from '@genesis/contracts';
import { duration, num, short, truncate } from '../output/format';

type Data = Record<string, unknown>;
const str = (d: Data, k: string): string | undefined =>
  typeof d[k] === 'string' ? (d[k] as string) : undefined;
const obj = (d: Data, k: string): Data => (d[k] && typeof d[k] === 'object' ? (d[k] as Data) : {});
const reasonText = (r: unknown): string =>
  typeof r === 'string'
    ? r
    : r && typeof r === 'object'
      ? [str(r as Data, 'code'), str(r as Data, 'message')].filter(Boolean).join(' ')
      : '';

/** A one-line summary of each event type the loop publishes; anything else lists its scalar fields. */
const SUMMARIES: Record<string, (d: Data) => string> = {
  'learning.captured': (d) =>
    `learning ${short(str(d, 'learning_id'))} ${str(d, 'kind') ?? ''} from ${str(d, 'source') ?? '?'}${d['language'] ? ` (${str(d, 'language')})` : ''}`,
  'learning.stored': (d) => {
    const n = typeof d['redactions'] === 'number' ? (d['redactions'] as number) : 0;
    return `learning ${short(str(d, 'learning_id'))} accepted${n ? `, ${n} secret(s) redacted` : ''}`;
  },
  'learning.rejected': (d) =>
    `learning ${short(str(d, 'learning_id'))} ${str(d, 'status') ?? 'rejected'}${d['duplicate_of'] ? ` of ${short(str(d, 'duplicate_of'))}` : ''}: ${reasonText(d['reason'])}`,
  'feedback.recorded': (d) => `${str(d, 'outcome') ?? '?'} output of ${str(d, 'model_version') ?? '?'}`,
  'cycle.requested': (d) => `requested by ${str(d, 'requested_by') ?? '?'}: ${str(d, 'reason') ?? ''}`,
  'cycle.failed': (d) => `failed in ${str(d, 'phase') ?? '?'}: ${reasonText(d['reason'])}`,
  'threshold.reached': (d) => `${str(d, 'trigger') ?? '?'}: ${str(d, 'reason') ?? ''}`,
  'training.progress': (d) => {
    const parts = [`job ${short(str(d, 'job_id'))} step ${num(d['step'])}/${num(d['total_steps'])}`];
    if (typeof d['loss'] === 'number') parts.push(`loss ${num(d['loss'], 4)}`);
    if (typeof d['tokens_per_second'] === 'number')
      parts.push(`${Math.round(d['tokens_per_second'] as number)} tok/s`);
    if (typeof d['eta_seconds'] === 'number')
      parts.push(`ETA ${duration((d['eta_seconds'] as number) * 1000)}`);
    return parts.join(', ');
  },
  'training.completed': (d) => {
    const m = obj(d, 'metrics');
    return `job ${short(str(d, 'job_id'))} done: final loss ${num(m['final_loss'], 4)}, ${num(m['steps'])} steps in ${num(m['train_seconds'], 1)}s`;
  },
  'training.failed': (d) =>
    `job ${short(str(d, 'job_id'))} failed${d['phase'] ? ` in ${str(d, 'phase')}` : ''}: ${reasonText(d['reason'])}${d['retryable'] ? ' (retryable)' : ''}`,
  'model.trained': (d) => {
    const snapshot = obj(d, 'snapshot');
    return `${str(d, 'model_version') ?? '?'} trained on ${num(snapshot['train_records'])} records (base ${str(d, 'base_model') ?? '?'})`;
  },
  'model.evaluated': (d) => {
    const decision =
      str(d, 'decision') ?? (d['promote'] === true ? 'promote' : d['promote'] === false ? 'reject' : '?');
    return `${str(d, 'model_version') ?? str(d, 'candidate_version') ?? '?'}: ${decision}${d['reason'] ? ` — ${reasonText(d['reason'])}` : ''}`;
  },
  'model.deployed': (d) =>
    `${str(d, 'model_version') ?? str(d, 'version') ?? '?'} is champion${d['previous_version'] ? ` (was ${str(d, 'previous_version')})` : ''}`,
  'model.rejected': (d) => `${str(d, 'model_version') ?? '?'} rejected: ${reasonText(d['reason'])}`,
  'model.rolled_back': (d) =>
    `champion ${str(d, 'from_version') ?? '?'} → ${str(d, 'to_version') ?? '?'}${d['reason'] ? `: ${reasonText(d['reason'])}` : ''}`,
  'rollback.requested': (d) =>
    `rollback${d['version'] ? ` to ${str(d, 'version')}` : ''} requested${d['requested_by'] ? ` by ${str(d, 'requested_by')}` : ''}: ${reasonText(d['reason'])}`,
};

/** `time  subject  model[/cycle]  summary`, one line per event. */
export function formatEvent(e: EventEnvelope<unknown>): string {
  const data = (e.data && typeof e.data === 'object' ? e.data : {}) as Data;
  const summarize = SUMMARIES[e.type];
  let summary: string;
  try {
    summary = summarize ? summarize(data) : genericSummary(data);
  } catch {
    summary = genericSummary(data);
  }
  const where = `${e.model_id ?? '?'}${e.cycle_id ? `/${short(e.cycle_id)}` : ''}`;
  return `${e.time}  ${e.type.padEnd(20)} ${where.padEnd(16)} ${truncate(summary, 160)}`;
}

function genericSummary(d: Data): string {
  return Object.entries(d)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, 5)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? truncate(v, 40) : String(v)}`)
    .join(' ');
}
