import type { Run } from '../command';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import type { TaskView } from './engine.format';

/** `genesis tasks add`: POST /api/v1/tasks (a custom task; 409 when one is active for the model and kind). */
export const run: Run = async ({ api, out }, { values }) => {
  const body: Record<string, unknown> = {};
  if (values['model-id']) body['model_id'] = values['model-id'];
  if (values['kind']) body['kind'] = values['kind'];
  if (values['reason']) body['reason'] = values['reason'];
  if (values['priority'] !== undefined) {
    // Number('') is 0 and Number('0x10') 16: only a plain decimal is taken as the priority asked for.
    const text = String(values['priority']).trim();
    const priority = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(priority)) throw new CliError('--priority must be a number', EXIT.usage);
    body['priority'] = priority;
  }
  for (const [option, field, example] of [
    ['target', 'target_metrics', '{"accuracy": 0.92}'],
    ['constraints', 'constraints', '{"max_minutes": 60}'],
  ] as const) {
    if (values[option] === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(values[option] as string);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new CliError(`--${option} must be a JSON object, e.g. '${example}'`, EXIT.usage);
    body[field] = parsed;
  }
  const res = await api.post<TaskView>('/api/v1/tasks', body);
  if (out.json) out.data(res.body);
  else
    out.line(
      `queued ${res.body.kind} task ${res.body.id} for ${res.body.model_id} at priority ${res.body.priority}`,
    );
  return EXIT.ok;
};
