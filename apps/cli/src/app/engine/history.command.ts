import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { formatHistory, type IterationView } from './engine.format';

/** `genesis history`: GET /api/v1/engine/history (planning iterations, newest first). */
export const run: Run = async ({ api, out }, { values }) => {
  const query: Record<string, string> = {};
  if (values['limit']) query['limit'] = values['limit'] as string;
  const res = await api.get<{ items: IterationView[] }>('/api/v1/engine/history', query);
  if (out.json) out.data(res.body);
  else for (const line of formatHistory(res.body.items)) out.line(line);
  return EXIT.ok;
};
