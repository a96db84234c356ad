import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import type { ModelFamily } from './performance';
import { formatFamilies } from './performance.format';

/** `genesis models families`: GET /api/v1/models/families. */
export const run: Run = async ({ api, out }) => {
  const { body } = await api.get<{ items: ModelFamily[] }>('/api/v1/models/families');
  if (out.json) out.data(body);
  else for (const line of formatFamilies(body.items)) out.line(line);
  return EXIT.ok;
};
