/* Generated from libs/contracts/schemas/events/engine.iteration_requested.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * engine.iteration_requested v1 — someone asked the planner for an iteration now
 */
export interface EngineIterationRequestedV1 {
  requested_by: string;
  requested_at: string;
}
