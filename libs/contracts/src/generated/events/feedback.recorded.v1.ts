/* Generated from libs/contracts/schemas/events/feedback.recorded.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * feedback.recorded v1 — an output of a model version was accepted or corrected by its user
 */
export interface FeedbackRecordedV1 {
  feedback_id: string;
  model_id: string;
  model_version: string;
  outcome: 'accepted' | 'corrected';
  learning_id?: string;
  source?: string;
  recorded_at: string;
}
