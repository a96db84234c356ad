/* Generated from libs/contracts/schemas/events/cycle.requested.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * cycle.requested v1 — an operator opened an improvement cycle by hand (the gateway's trigger)
 */
export interface CycleRequestedV1 {
  cycle_id: string;
  model_id: string;
  requested_by: string;
  reason: string;
  requested_at: string;
}
