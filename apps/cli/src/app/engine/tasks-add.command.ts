import type { Run } from '../command';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import type { TaskView } from './engine.format';
import { parseKeyValues } from './task-show.format';

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
  for (const [option, field] of [
    ['target', 'target_metrics'],
    ['constraints', 'constraints'],
  ] as const) {
    if (values[option] === undefined) continue;
    const parsed = parseKeyValues(values[option] as string);
    if (!parsed)
      throw new CliError(
        `--${option} must be key=value pairs (${option === 'target' ? 'accuracy=0.8,gain=0.02' : 'latency_target_ms=200'}) or a JSON object`,
        EXIT.usage,
      );
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
