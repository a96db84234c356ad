import { QueryModelsController } from './query-models.controller';
import { RollbackController } from './rollback.controller';

/** The registry slices: versions, champion, evaluations, rollback. */
export const MODEL_CONTROLLERS = [RollbackController, QueryModelsController];
