import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestWeaviate } from '@genesis/testing';
import { WeaviateVectorIndex } from '@genesis/vectors';
import { vectorIndexContract } from './vector-index.contract';

// A real weaviate-server (tools/infra/ensure-weaviate.sh builds it once; the first build may take
// ~15 min, which `npm test` overlaps with the rest of the suite): no skipping when it is missing.
describe(
  'WeaviateVectorIndex against a real Weaviate (API-key authentication)',
  { timeout: 50 * 60_000 },
  () => {
    let weaviate: TestWeaviate;
    let index: WeaviateVectorIndex;

    before(
      async () => {
        weaviate = await TestWeaviate.start();
        index = new WeaviateVectorIndex({
          url: weaviate.url,
          grpcPort: weaviate.grpcPort,
          apiKey: weaviate.apiKey,
        });
        await index.ensure();
      },
      { timeout: 50 * 60_000 },
    );

    after(async () => {
      await index?.close();
      await weaviate?.dispose();
    });

    it('refuses a client without the API key (anonymous access is off)', async () => {
      const res = await fetch(`${weaviate.url}/v1/schema`);
      assert.equal(res.status, 401);
      const anonymous = new WeaviateVectorIndex({ url: weaviate.url, grpcPort: weaviate.grpcPort });
      await assert.rejects(anonymous.count());
      await anonymous.close();
    });

    vectorIndexContract('weaviate', () => index);
  },
);
