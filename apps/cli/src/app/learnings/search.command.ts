import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { formatHits, kOption, type SimilarHit } from './similar.command';

/** `genesis learnings search "TEXT"`: POST /api/v1/learnings/search (ADR 0018). */
export const run: Run = async ({ api, out }, { positionals, values }) => {
  const { body } = await api.post<{ items: SimilarHit[] }>('/api/v1/learnings/search', {
    query: positionals[0],
    k: Number(kOption(values['k'])),
    ...(typeof values['model-id'] === 'string' ? { model_id: values['model-id'] } : {}),
  });
  if (out.json) out.data(body);
  else for (const line of formatHits(body.items)) out.line(line);
  return EXIT.ok;
};
