import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { formatTask, type TaskDetail } from './task-show.format';

/** `genesis tasks show ID`: GET /api/v1/tasks/{id} — its targets, constraints and whether they were met. */
export const run: Run = async ({ api, out }, { positionals }) => {
  const id = positionals[0]!;
  const res = await api.get<TaskDetail>(`/api/v1/tasks/${encodeURIComponent(id)}`);
  if (out.json) out.data(res.body);
  else for (const line of formatTask(res.body)) out.line(line);
  return EXIT.ok;
};
