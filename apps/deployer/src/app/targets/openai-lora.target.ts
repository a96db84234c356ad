import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '@genesis/messaging';
import type { DeployerConfig } from '../deployer.config';
import {
  callJson,
  DeploymentError,
  type DeployableVersion,
  type DeploymentTarget,
} from './deployment-target';

/**
 * A vLLM-style server with runtime LoRA loading (`--enable-lora`,
 * VLLM_ALLOW_RUNTIME_LORA_UPDATING=True): the adapter is written to a directory the server reads,
 * loaded under a new name per version (re-loading a name can serve stale weights), and the
 * previous champion's adapter is unloaded once the alias has moved. Requests pick the champion
 * with `"model": "<version>"` (the registry's champion alias says which).
 */
export class OpenAiLoraTarget implements DeploymentTarget {
  readonly name = 'openai-lora' as const;
  /** vLLM loads LoRA adapters at run time, nothing else. */
  readonly artifactKinds = ['lora-adapter'] as const;

  constructor(
    private readonly config: DeployerConfig,
    private readonly artifacts: ArtifactStore,
  ) {}

  private url(path: string) {
    return `${this.config.openaiLora.url.replace(/\/$/, '')}${path}`;
  }

  private headers(): Record<string, string> {
    const key = this.config.openaiLora.apiKey;
    return key ? { authorization: `Bearer ${key}` } : {};
  }

  /** Writes adapter_model.safetensors + adapter_config.json under <adapterDir>/<version> (atomically). */
  private async export(v: DeployableVersion): Promise<string> {
    const dir = join(this.config.openaiLora.adapterDir, v.version);
    const files: [string, string][] = [
      ['adapter_model.safetensors', v.artifact.key],
      ['adapter_config.json', v.artifact.config_key],
    ];
    await mkdir(dir, { recursive: true });
    for (const [name, key] of files) {
      const bytes = await this.artifacts.get(v.artifact.bucket, key);
      if (!bytes) throw new DeploymentError(`${key} is missing from ${v.artifact.bucket}`, false);
      await writeFile(join(dir, `${name}.tmp`), bytes);
      await rename(join(dir, `${name}.tmp`), join(dir, name));
    }
    return dir;
  }

  async deploy(v: DeployableVersion) {
    const path = await this.export(v);
    try {
      await callJson(
        'POST',
        this.url('/v1/load_lora_adapter'),
        { lora_name: v.version, lora_path: path },
        this.config.requestTimeoutMs,
        this.headers(),
      );
    } catch (err) {
      // A deployer killed after the load and before recording it loads again: already there is fine.
      if (!(err instanceof DeploymentError && /already been loaded/i.test(err.message))) throw err;
    }
    return { servedAs: v.version };
  }

  async retire(_v: DeployableVersion, servedAs: string): Promise<void> {
    await callJson(
      'POST',
      this.url('/v1/unload_lora_adapter'),
      { lora_name: servedAs },
      this.config.requestTimeoutMs,
      this.headers(),
    );
  }
}
