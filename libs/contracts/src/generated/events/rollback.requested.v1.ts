/* Generated from libs/contracts/schemas/events/rollback.requested.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * rollback.requested v1 — an operator asked to move the champion back (gateway → deployer)
 *
 * version absent: the version the champion alias pointed at before its last move.
 */
export interface RollbackRequestedV1 {
  request_id: string;
  version?: string;
  reason: string;
  requested_by: string;
}
