import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { formatStudyList } from './studies.format';
import type { StudyList } from './study';

const modelPath = (values: Record<string, unknown>) =>
  `/api/v1/models/${encodeURIComponent((values['model-id'] as string | undefined) ?? 'genesis')}/studies`;

/** `genesis studies`: GET /api/v1/models/{id}/studies. */
export const run: Run = async ({ api, out }, { values }) => {
  const { body } = await api.get<StudyList>(modelPath(values));
  if (out.json) out.data(body);
  else for (const line of formatStudyList(body)) out.line(line);
  return EXIT.ok;
};

export { modelPath };
