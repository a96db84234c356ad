import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import type { TaskView } from './engine.format';

/** `genesis tasks cancel ID`: POST /api/v1/tasks/{id}/cancel (a queued task only; 409 otherwise). */
export const run: Run = async ({ api, out }, { positionals }) => {
  const id = positionals[0]!;
  const res = await api.post<TaskView>(`/api/v1/tasks/${encodeURIComponent(id)}/cancel`, {});
  if (out.json) out.data(res.body);
  else out.line(`cancelled ${res.body.kind} task ${res.body.id} of ${res.body.model_id}`);
  return EXIT.ok;
};
