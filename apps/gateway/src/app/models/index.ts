import { FamiliesController } from './families.controller';
import { QueryModelsController } from './query-models.controller';
import { RegisteredModels } from './registered-models';
import { RollbackController } from './rollback.controller';

/** The registry slices: families, performance, backups, versions, champion, evaluations, rollback. */
export const MODEL_CONTROLLERS = [FamiliesController, RollbackController, QueryModelsController];
export const MODEL_PROVIDERS = [RegisteredModels];
export { RegisteredModels };
