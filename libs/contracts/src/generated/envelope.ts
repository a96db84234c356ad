/* Generated from libs/contracts/schemas/envelope.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

export type ModelId = string;

/**
 * Genesis event envelope
 *
 * Every event on GENESIS_EVENTS / GENESIS_JOBS is one of these; `data` is validated by the schema of `type` at `version`.
 */
export interface Envelope {
  /**
   * Event id; also the Nats-Msg-Id header.
   */
  id: string;
  type: string;
  version: number;
  time: string;
  source: string;
  model_id: ModelId;
  cycle_id?: string;
  correlation_id: string;
  causation_id: string;
  data: {
    [k: string]: unknown;
  };
}
