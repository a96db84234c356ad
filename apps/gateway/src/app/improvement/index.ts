import { QueryCyclesController } from '../cycles/query-cycles.controller';
import { RecordFeedbackController } from '../feedback/record-feedback.controller';
import { ImprovementStatusController } from './improvement-status.controller';
import { TriggerCycleController } from './trigger-cycle.controller';
import { triggerPolicyProvider } from './trigger-policy.provider';

/** The improvement-cycle slices: status, manual trigger, cycles, feedback. */
export const IMPROVEMENT_CONTROLLERS = [
  ImprovementStatusController,
  TriggerCycleController,
  QueryCyclesController,
  RecordFeedbackController,
];
export const IMPROVEMENT_PROVIDERS = [triggerPolicyProvider];
