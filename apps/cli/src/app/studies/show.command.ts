import type { Run } from '../command';
import { EXIT } from '../exit-codes';
import { modelPath } from './studies.command';
import { formatStudy } from './studies.format';
import type { StudyDetail } from './study';

/** `genesis studies show STUDY`: GET /api/v1/models/{id}/studies/{study}. */
export const run: Run = async ({ api, out }, { values, positionals }) => {
  const { body } = await api.get<StudyDetail>(`${modelPath(values)}/${encodeURIComponent(positionals[0]!)}`);
  if (out.json) out.data(body);
  else for (const line of formatStudy(body)) out.line(line);
  return EXIT.ok;
};
