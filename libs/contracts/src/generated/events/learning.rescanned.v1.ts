/* Generated from libs/contracts/schemas/events/learning.rescanned.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * learning.rescanned v1 — the stored learnings of a rescan or forget job are clean (learner → trainer-bridge)
 *
 * The learnings it changed are in learning_rescan_changes; the trainer-bridge rebuilds or deletes every snapshot holding one and taints the model versions trained on it.
 */
export interface LearningRescannedV1 {
  rescan_id: string;
  kind: 'rescan' | 'forget';
  rule_set?: string;
  scanned: number;
  changed: number;
}
