import { readServiceConfig, type EnvReader, type ServiceConfig } from '@genesis/config';
import type { DeploymentTargetName } from '@genesis/contracts';
import { DEFAULT_BACKUP_RETENTION } from '@genesis/registry';

export const DEPLOYER_CONFIG = Symbol('DEPLOYER_CONFIG');
export const TARGET_NAMES: readonly DeploymentTargetName[] = ['registry', 'ollama', 'openai-lora'];

export interface DeployerConfig extends ServiceConfig {
  target: DeploymentTargetName;
  /** Tries per deployment before the cycle fails (transient target errors), and the pause between. */
  attempts: number;
  retryDelayMs: number;
  requestTimeoutMs: number;
  /** GENESIS_BACKUP_RETENTION: deployed versions whose artifacts are kept (restorable), newest first. */
  backupRetention: number;
  ollama: { url: string; baseModel: string; modelName: string };
  openaiLora: { url: string; adapterDir: string; apiKey?: string };
}

export function readDeployerConfig(env: EnvReader): DeployerConfig {
  const target = env.oneOf('GENESIS_DEPLOY_TARGET', TARGET_NAMES, 'registry');
  const ollamaBase = env.optionalStr('GENESIS_OLLAMA_BASE_MODEL');
  const adapterDir = env.optionalStr('GENESIS_OPENAI_LORA_ADAPTER_DIR');
  if (target === 'ollama' && !ollamaBase)
    env.fail(
      'GENESIS_OLLAMA_BASE_MODEL is required with GENESIS_DEPLOY_TARGET=ollama (the Ollama model the adapter applies to, e.g. qwen2.5-coder:1.5b)',
    );
  if (target === 'openai-lora' && !adapterDir)
    env.fail(
      'GENESIS_OPENAI_LORA_ADAPTER_DIR is required with GENESIS_DEPLOY_TARGET=openai-lora (a directory the serving engine can read adapters from)',
    );
  return {
    ...readServiceConfig(env, 'deployer'),
    target,
    attempts: env.int('GENESIS_DEPLOY_ATTEMPTS', 3, { min: 1, max: 20 }),
    retryDelayMs: env.int('GENESIS_DEPLOY_RETRY_DELAY_MS', 2000, { min: 0 }),
    requestTimeoutMs: env.int('GENESIS_DEPLOY_TIMEOUT_MS', 120_000, { min: 100 }),
    // At least 1: the champion is always kept anyway, one more keeps a rollback target.
    backupRetention: env.int('GENESIS_BACKUP_RETENTION', DEFAULT_BACKUP_RETENTION, { min: 1, max: 10_000 }),
    ollama: {
      url: env.url('GENESIS_OLLAMA_URL', 'http://127.0.0.1:11434', ['http', 'https']),
      baseModel: ollamaBase ?? '',
      modelName: env.str('GENESIS_OLLAMA_MODEL_NAME', 'genesis'),
    },
    openaiLora: {
      url: env.url('GENESIS_OPENAI_LORA_URL', 'http://127.0.0.1:8001', ['http', 'https']),
      adapterDir: adapterDir ?? '',
      apiKey: env.optionalStr('GENESIS_OPENAI_LORA_API_KEY'),
    },
  };
}
