import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import type { ModelList } from './model';
import { formatModelList } from './models.format';

/** `genesis models`: GET /api/v1/models (every page). */
export const run: Run = async ({ api, out }, { values }) => {
  const modelId = values['model-id'] as string | undefined;
  const first = (await api.get<ModelList>('/api/v1/models', { model_id: modelId })).body;
  const list: ModelList = { ...first, items: [...first.items] };
  for (let cursor = first.next_cursor; cursor;) {
    const page = (await api.get<ModelList>('/api/v1/models', { model_id: modelId, cursor })).body;
    list.items.push(...page.items);
    cursor = page.next_cursor;
  }
  list.next_cursor = null;
  if (out.json) out.data(list);
  else for (const line of formatModelList(list)) out.line(line);
  return EXIT.ok;
};
