/* Generated from libs/contracts/schemas/events/model.rejected.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * model.rejected v1 — the candidate was not promoted (rejected, or inconclusive: see outcome); the champion is unchanged (deployer)
 */
export interface ModelRejectedV1 {
  cycle_id: string;
  model_version: string;
  evaluation_id: string;
  champion_version: string | null;
  reason: string;
  /**
   * Absent = rejected. inconclusive: the gate could not tell (suite too small, or neither model scored); the champion stays and the cycle ends inconclusive (ADR 0015).
   */
  outcome?: 'rejected' | 'inconclusive';
}
