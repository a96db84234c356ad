import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import type { ModelPerformance } from './performance';
import { formatPerformance } from './performance.format';

/** `genesis models performance MODEL_ID`: GET /api/v1/models/{id}/performance. */
export const run: Run = async ({ api, out }, { positionals, values }) => {
  const limit = values['limit'] as string | undefined;
  const { body } = await api.get<ModelPerformance>(
    `/api/v1/models/${encodeURIComponent(positionals[0]!)}/performance`,
    limit ? { limit } : {},
  );
  if (out.json) out.data(body);
  else for (const line of formatPerformance(body)) out.line(line);
  return EXIT.ok;
};
