import type { ArtifactStore } from '@genesis/messaging';
import type { DeployerConfig } from '../deployer.config';
import type { DeploymentTarget } from './deployment-target';
import { OllamaTarget } from './ollama.target';
import { OpenAiLoraTarget } from './openai-lora.target';
import { RegistryTarget } from './registry.target';

export * from './deployment-target';
export * from './deploy-with-retries';

export const DEPLOYMENT_TARGET = Symbol('DEPLOYMENT_TARGET');

export function createTarget(config: DeployerConfig, artifacts: ArtifactStore): DeploymentTarget {
  switch (config.target) {
    case 'ollama':
      return new OllamaTarget(config, artifacts);
    case 'openai-lora':
      return new OpenAiLoraTarget(config, artifacts);
    default:
      return new RegistryTarget();
  }
}
