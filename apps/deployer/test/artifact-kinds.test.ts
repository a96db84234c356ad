import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArtifactStore } from '@genesis/messaging';
import { servableVersion } from '@genesis/registry';
import { TestDatabase } from '@genesis/testing';
import type { DeployerConfig } from '../src/app/deployer.config';
import { refuseToServe } from '../src/app/registry/registry';
import { createTarget } from '../src/app/targets';

/**
 * The deployer refuses, before calling a target, a version the target cannot serve (ADR 0022): an
 * artifact kind it does not declare, an artifact retention pruned, one over the family's size limit.
 */
describe('deployer: what a target can serve', () => {
  let db: TestDatabase;
  const config = (target: DeployerConfig['target']) =>
    ({
      target,
      openaiLora: { url: 'http://127.0.0.1:9', adapterDir: '/nonexistent' },
      ollama: { url: 'http://127.0.0.1:9', baseModel: 'b', modelName: 'genesis' },
    }) as DeployerConfig;
  // Refusals come before any call: the targets never reach their (absent) servers or store.
  const vllm = createTarget(config('openai-lora'), undefined as unknown as ArtifactStore);
  const registry = createTarget(config('registry'), undefined as unknown as ArtifactStore);

  before(async () => {
    db = await TestDatabase.create();
    await db.query(
      `INSERT INTO model_families (id, constraints, registered_by) VALUES ('kinds', '{"max_size_bytes": 1500}', 'test')`,
    );
    for (const [version, kind, size, pruned] of [
      ['kinds-20261120-100000', 'merged', 100, false],
      ['kinds-20261120-110000', 'lora-adapter', 2000, false],
      ['kinds-20261120-120000', 'lora-adapter', 100, true],
      ['kinds-20261120-130000', 'lora-adapter', 100, false],
    ] as const) {
      await db.query(
        `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, 'kinds', 'tiny', 'promoted', '{}')`,
        [version],
      );
      await db.query(
        `INSERT INTO model_artifacts (version, model_id, kind, bucket, key, sha256, size_bytes, pruned_at)
         VALUES ($1, 'kinds', $2, 'genesis-artifacts', $1, $3, $4, $5)`,
        [version, kind, 'ab'.repeat(32), size, pruned ? new Date() : null],
      );
    }
  });
  after(async () => {
    await db?.dispose();
  });

  const refusal = async (version: string, target = vllm) =>
    (await refuseToServe(db.dataSource, (await servableVersion(db.dataSource, version))!, target))?.code ??
    null;

  it('refuses a kind the target does not declare, with a stable code and the kinds it serves', async () => {
    assert.deepEqual(vllm.artifactKinds, ['lora-adapter']);
    const r = await refuseToServe(
      db.dataSource,
      (await servableVersion(db.dataSource, 'kinds-20261120-100000'))!,
      vllm,
    );
    assert.equal(r?.code, 'ARTIFACT_KIND_NOT_SERVABLE');
    assert.match(r!.message, /is a merged artifact; the openai-lora target serves only lora-adapter/);
    assert.equal(await refusal('kinds-20261120-100000', registry), null, 'the registry hands out any kind');
  });

  it('refuses a pruned artifact and one over the family size limit; serves the rest', async () => {
    assert.equal(await refusal('kinds-20261120-110000'), 'ARTIFACT_TOO_LARGE');
    assert.equal(await refusal('kinds-20261120-120000'), 'ARTIFACT_PRUNED');
    assert.equal(await refusal('kinds-20261120-120000', registry), 'ARTIFACT_PRUNED');
    assert.equal(await refusal('kinds-20261120-130000'), null);
  });
});
