import { EngineController } from './engine.controller';
import { TasksController } from './tasks.controller';

/** The improvement engine's API (ADR 0024). */
export const ENGINE_CONTROLLERS = [EngineController, TasksController];
