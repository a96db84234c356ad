import { StudiesController } from './studies.controller';

/** Architecture studies (ADR 0025): start, list, show. */
export const STUDY_CONTROLLERS = [StudiesController];
