import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@genesis/messaging';
import type { DeployerConfig } from '../deployer.config';
import {
  callJson,
  DeploymentError,
  type DeployableVersion,
  type DeploymentTarget,
} from './deployment-target';

/**
 * Ollama: upload the adapter as a blob (`POST /api/blobs/sha256:<hex>`, skipped when `HEAD` finds
 * it), create `<name>:<version>` from the base with the adapter (`POST /api/create`), then point
 * `<name>:champion` at it (`POST /api/copy`). Ollama imports safetensors adapters only for Llama,
 * Mistral and Gemma: a Qwen adapter must be converted to GGUF first (llama.cpp's
 * convert_lora_to_gguf.py) — see docs/adr/0009-evaluation-and-deployment.md.
 */
export class OllamaTarget implements DeploymentTarget {
  readonly name = 'ollama' as const;
  /** A PEFT adapter on the configured Ollama base model; merged or quantised weights need another import path. */
  readonly artifactKinds = ['lora-adapter'] as const;

  constructor(
    private readonly config: DeployerConfig,
    private readonly artifacts: ArtifactStore,
  ) {}

  private url(path: string) {
    return `${this.config.ollama.url.replace(/\/$/, '')}${path}`;
  }

  async deploy(v: DeployableVersion) {
    const adapter = await this.artifacts.get(v.artifact.bucket, v.artifact.key);
    if (!adapter)
      throw new DeploymentError(`adapter ${v.artifact.key} is missing from ${v.artifact.bucket}`, false);
    const digest = `sha256:${createHash('sha256').update(adapter).digest('hex')}`;
    const t = this.config.requestTimeoutMs;
    const head = await fetch(this.url(`/api/blobs/${digest}`), {
      method: 'HEAD',
      signal: AbortSignal.timeout(t),
    }).catch((err: Error) => {
      throw new DeploymentError(`HEAD ${this.url(`/api/blobs/${digest}`)}: ${err.message}`);
    });
    if (head.status !== 200) {
      await callJson('POST', this.url(`/api/blobs/${digest}`), adapter, t, {
        'content-type': 'application/octet-stream',
      });
    }
    const model = `${this.config.ollama.modelName}:${v.version}`;
    await callJson(
      'POST',
      this.url('/api/create'),
      {
        model,
        from: this.config.ollama.baseModel,
        adapters: { 'adapter_model.safetensors': digest },
        stream: false,
      },
      t,
    );
    await callJson(
      'POST',
      this.url('/api/copy'),
      { source: model, destination: `${this.config.ollama.modelName}:champion` },
      t,
    );
    return { servedAs: model };
  }

  /** Versions stay in Ollama (a rollback re-copies one); the champion tag already moved on. */
  async retire(): Promise<void> {}
}
