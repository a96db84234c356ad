import { ForgetLearningController } from './forget.controller';
import { RescanController } from './rescan.controller';

/** Rescan and forget (ADR 0017): admin-only jobs the learner and the trainer-bridge carry out. */
export const RESCAN_CONTROLLERS = [RescanController, ForgetLearningController];
