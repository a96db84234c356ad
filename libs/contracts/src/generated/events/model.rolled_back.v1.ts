/* Generated from libs/contracts/schemas/events/model.rolled_back.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * model.rolled_back v1 — the champion alias moved back to an earlier version, which is serving again (deployer)
 */
export interface ModelRolledBackV1 {
  request_id: string;
  from_version: string;
  to_version: string;
  reason: string;
  requested_by: string;
  target: 'registry' | 'ollama' | 'openai-lora';
  deployment_id: string;
}
