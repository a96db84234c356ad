import { QueryModelsController } from './query-models.controller';
import { RollbackController } from './rollback.controller';

/** The registry slices (issue 5): versions, champion, evaluations, rollback. */
export const MODEL_CONTROLLERS = [RollbackController, QueryModelsController];
