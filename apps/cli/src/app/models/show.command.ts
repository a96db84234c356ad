import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import type { ModelDetail } from './model';
import { formatModel } from './models.format';

/** `genesis models show VERSION`: GET /api/v1/models/{version}. */
export const run: Run = async ({ api, out }, { positionals }) => {
  const { body } = await api.get<ModelDetail>(`/api/v1/models/${encodeURIComponent(positionals[0]!)}`);
  if (out.json) out.data(body);
  else for (const line of formatModel(body)) out.line(line);
  return EXIT.ok;
};
