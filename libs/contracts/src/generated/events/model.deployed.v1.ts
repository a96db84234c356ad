/* Generated from libs/contracts/schemas/events/model.deployed.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * model.deployed v1 — a promoted version is serving and the champion alias points at it (deployer)
 */
export interface ModelDeployedV1 {
  cycle_id: string;
  model_version: string;
  previous_version: string | null;
  target: 'registry' | 'ollama' | 'openai-lora';
  /**
   * The name the serving target knows the version by.
   */
  served_as?: string;
  deployment_id: string;
  improvement_score: number | null;
  alias: 'champion';
}
