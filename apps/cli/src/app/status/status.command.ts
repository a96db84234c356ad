import type { ImprovementStatus } from '@genesis/cycles';
import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { formatStatus } from './status.format';

/** `genesis status`: GET /api/v1/genesis/improvement/status. --json prints the spec's document as is. */
export const run: Run = async ({ api, out }, { values }) => {
  const modelId = values['model-id'] as string | undefined;
  const { body } = await api.get<ImprovementStatus>('/api/v1/genesis/improvement/status', {
    model_id: modelId,
  });
  if (out.json) out.data(body);
  else for (const line of formatStatus(modelId ?? 'genesis', body)) out.line(line);
  return EXIT.ok;
};
