/* Generated from libs/contracts/schemas/events/learning.rescan_requested.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * learning.rescan_requested v1 — an admin asked to rescan stored learnings or to forget some (gateway → learner)
 *
 * The job row learning_rescans(id = rescan_id) holds the request; this event only starts it. kind forget names its learnings.
 */
export interface LearningRescanRequestedV1 {
  rescan_id: string;
  kind: 'rescan' | 'forget';
  /**
   * @minItems 1
   * @maxItems 1000
   */
  learning_ids?: string[];
  requested_by: string;
}
