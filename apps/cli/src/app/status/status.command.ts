import type { ImprovementStatus } from '@genesis/cycles';
import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import type { ModelList } from '../models/model';
import { formatStatus } from './status.format';

/** The registry holds at most this many versions per page; more reads as "500+". */
const REGISTRY_PAGE = 500;

/**
 * `genesis status`: GET /api/v1/genesis/improvement/status. --json prints the spec's document as is.
 * For people it also counts the model's trained candidates (GET /api/v1/models): the spec's
 * training_runs counts deployments only, so "0 training runs" after two rejected candidates would
 * read as if nothing had ever been trained.
 */
export const run: Run = async ({ api, out }, { values }) => {
  const modelId = values['model-id'] as string | undefined;
  const { body } = await api.get<ImprovementStatus>('/api/v1/genesis/improvement/status', {
    model_id: modelId,
  });
  if (out.json) {
    out.data(body);
    return EXIT.ok;
  }
  // Extra context only: a registry that cannot be read leaves the line out, never fails the status.
  const registry = await api
    .get<ModelList>('/api/v1/models', { model_id: modelId, limit: REGISTRY_PAGE })
    .then((r) => r.body)
    .catch(() => undefined);
  for (const line of formatStatus(modelId ?? 'genesis', body, new Date(), registry, REGISTRY_PAGE))
    out.line(line);
  return EXIT.ok;
};
