import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { formatTasks, type TaskView } from './engine.format';

/** `genesis tasks`: GET /api/v1/tasks (newest first, priorities and their explanations). */
export const run: Run = async ({ api, out }, { values }) => {
  const query: Record<string, string> = {};
  for (const key of ['status', 'kind', 'limit'] as const) if (values[key]) query[key] = values[key] as string;
  if (values['model-id']) query['model_id'] = values['model-id'] as string;
  const res = await api.get<{ items: TaskView[] }>('/api/v1/tasks', query);
  if (out.json) out.data(res.body);
  else for (const line of formatTasks(res.body.items)) out.line(line);
  return EXIT.ok;
};
