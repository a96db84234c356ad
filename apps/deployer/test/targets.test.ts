import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Objm } from '@nats-io/obj';
import { ARTIFACTS_BUCKET, ArtifactStore } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { FakeOllamaServer, FakeOpenAiLoraServer, TestStack } from '@genesis/testing';
import type { DeployerConfig } from '../src/app/deployer.config';
import { createTarget, deployWithRetries, DeploymentError, type DeployableVersion } from '../src/app/targets';

const adapterBytes = new TextEncoder().encode('not really safetensors, but bytes with a digest');
const version = (v: string): DeployableVersion => ({
  model_id: 'genesis',
  version: v,
  base_model: 'tiny',
  artifact: {
    bucket: ARTIFACTS_BUCKET,
    key: `adapters/${v}/adapter_model.safetensors`,
    config_key: `adapters/${v}/adapter_config.json`,
    sha256: createHash('sha256').update(adapterBytes).digest('hex'),
  },
});

describe('deployment targets against local servers that implement only the documented endpoints', () => {
  let stack: TestStack;
  let artifacts: ArtifactStore;
  let vllm: FakeOpenAiLoraServer;
  let ollama: FakeOllamaServer;
  const adapterDir = mkdtempSync(join(tmpdir(), 'genesis-adapters-'));
  const log = new Log('deployer-test');

  const config = (target: DeployerConfig['target']): DeployerConfig =>
    ({
      target,
      attempts: 3,
      retryDelayMs: 10,
      requestTimeoutMs: 5000,
      ollama: { url: ollama.url, baseModel: 'qwen2.5-coder:1.5b', modelName: 'genesis' },
      openaiLora: { url: vllm.url, adapterDir },
    }) as DeployerConfig;

  before(async () => {
    stack = await TestStack.start();
    const store = await new Objm(stack.client.js).open(ARTIFACTS_BUCKET);
    for (const v of ['genesis-20261121-100000', 'genesis-20261121-110000']) {
      await store.putBlob({ name: version(v).artifact.key }, adapterBytes);
      await store.putBlob({ name: version(v).artifact.config_key }, new TextEncoder().encode('{"r": 16}'));
    }
    artifacts = new ArtifactStore(stack.client);
    vllm = await new FakeOpenAiLoraServer().start();
    ollama = await new FakeOllamaServer().start();
  });

  after(async () => {
    await vllm?.stop();
    await ollama?.stop();
    await stack?.dispose();
  });

  it('openai-lora: exports the adapter, loads it under the version name, unloads the previous one', async () => {
    const target = createTarget(config('openai-lora'), artifacts);
    const v1 = version('genesis-20261121-100000');
    const v2 = version('genesis-20261121-110000');
    assert.deepEqual(await target.deploy(v1), { servedAs: v1.version });
    assert.equal(readFileSync(join(adapterDir, v1.version, 'adapter_config.json'), 'utf8'), '{"r": 16}');
    // A deployer killed after the load deploys again: "already loaded" counts as done.
    assert.deepEqual(await target.deploy(v1), { servedAs: v1.version });
    await target.deploy(v2);
    await target.retire(v1, v1.version);
    assert.deepEqual([...vllm.loaded.keys()], [v2.version]);
    assert.deepEqual(vllm.unexpected, []);
  });

  it('openai-lora: a server that is down fails after the configured attempts, with the reason', async () => {
    const target = createTarget(config('openai-lora'), artifacts);
    vllm.failNext(3);
    const outcome = await deployWithRetries(
      target,
      version('genesis-20261121-100000'),
      config('openai-lora'),
      log,
    );
    assert.equal(outcome.ok, false);
    assert.match((outcome as { message: string }).message, /load_lora_adapter → 500 .*after 3 attempts/);
    vllm.failNext(0);
  });

  it('ollama: uploads the blob once, creates the version from the base with the adapter, copies it to :champion', async () => {
    const target = createTarget(config('ollama'), artifacts);
    const v1 = version('genesis-20261121-100000');
    assert.deepEqual(await target.deploy(v1), { servedAs: `genesis:${v1.version}` });
    const digest = `sha256:${v1.artifact.sha256}`;
    assert.equal(ollama.blobs.get(digest), adapterBytes.length);
    assert.deepEqual(ollama.models.get(`genesis:${v1.version}`), {
      from: 'qwen2.5-coder:1.5b',
      adapters: { 'adapter_model.safetensors': digest },
    });
    assert.deepEqual(ollama.models.get('genesis:champion'), ollama.models.get(`genesis:${v1.version}`));
    const uploads = () =>
      ollama.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/api/blobs/')).length;
    assert.equal(uploads(), 1);
    await target.deploy(version('genesis-20261121-110000')); // same bytes: HEAD finds the blob
    assert.equal(uploads(), 1);
    assert.deepEqual(ollama.unexpected, []);
  });

  it('a missing adapter is not retried', async () => {
    const target = createTarget(config('ollama'), artifacts);
    const missing = { ...version('genesis-20261121-120000') };
    await assert.rejects(
      target.deploy(missing),
      (err: unknown) => err instanceof DeploymentError && !err.retryable,
    );
    assert.equal(existsSync(join(adapterDir, missing.version)), false);
  });
});
