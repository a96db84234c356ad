import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventPublisher } from '@genesis/messaging';
import { SUBJECTS } from '@genesis/contracts';
import { WeaviateVectorIndex } from '@genesis/vectors';
import {
  EmbedderProcess,
  ServiceProcess,
  TestStack,
  TestWeaviate,
  capturedLearning,
  request,
  runRescanJob,
  waitFor,
} from '@genesis/testing';

/**
 * The learner on Weaviate (GENESIS_VECTOR_STORE=weaviate, API key required), with a Weaviate outage
 * during ingest: capture goes on, readiness says `degraded` and the lag metric rises, the index
 * catches up after the restart, nothing is missing or duplicated (ADR 0018). A forgotten, a
 * quarantined and a redacted learning leave Weaviate itself, not only the Postgres rows. Real
 * Weaviate, real embedder.
 */
describe('learner: Weaviate stopped during ingest', { timeout: 50 * 60_000 }, () => {
  let stack: TestStack;
  let weaviate: TestWeaviate;
  let learner: ServiceProcess;
  let embedder: EmbedderProcess;
  let publisher: EventPublisher;
  let index: WeaviateVectorIndex;
  const weaviateEnv = () => ({
    GENESIS_VECTOR_STORE: 'weaviate',
    GENESIS_WEAVIATE_URL: weaviate.url,
    GENESIS_WEAVIATE_GRPC_PORT: String(weaviate.grpcPort),
    GENESIS_WEAVIATE_API_KEY: weaviate.apiKey,
    GENESIS_INDEX_LAG_INTERVAL_MS: '250',
  });

  before(
    async () => {
      stack = await TestStack.start();
      weaviate = await TestWeaviate.start();
      embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
      learner = await ServiceProcess.start('learner', stack.env(weaviateEnv()));
      publisher = new EventPublisher(stack.client);
      index = new WeaviateVectorIndex({
        url: weaviate.url,
        grpcPort: weaviate.grpcPort,
        apiKey: weaviate.apiKey,
      });
    },
    { timeout: 50 * 60_000 },
  );

  after(async () => {
    await index?.close();
    await learner?.stop();
    await embedder?.stop();
    await weaviate?.dispose();
    await stack?.dispose();
  });

  // Clearly different corrections (none is a near-duplicate of another: see the labelled pairs).
  const DISTINCT = [
    ['def area(r):', '    return math.pi * r ** 2'],
    ['def read_config(path):', '    with open(path) as f:\n        return json.load(f)'],
    ['function sum(xs) {', '  return xs.reduce((a, b) => a + b, 0);\n}'],
    ['SELECT name FROM users WHERE', 'id = $1 -- parameterised, never string concatenation'],
    ['for (let i = 0; i <= arr.length; i++) {', 'for (let i = 0; i < arr.length; i++) {'],
    [
      'def parse_port(value):',
      '    port = int(value)\n    if not 0 < port < 65536:\n        raise ValueError(value)',
    ],
    ['fn first_word(s: &str) -> &str {', '    s.split_whitespace().next().unwrap_or("")\n}'],
  ];
  const capture = async (i: number) => {
    const [context, correction] = DISTINCT[i]!;
    const event = capturedLearning({ context, correction });
    await publisher.publish(SUBJECTS.learningCaptured, event);
    return event.data.learning_id;
  };
  /** The learner's genesis_vector_index_lag and oldest-unindexed age for the model `genesis`. */
  const lagMetrics = async () => {
    const { text } = await request(learner.baseUrl, '/metrics');
    const value = (name: string) => {
      const m = new RegExp(`^${name}\\{[^}]*model_id="genesis"[^}]*\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return {
      lag: value('genesis_vector_index_lag'),
      oldest: value('genesis_vector_index_oldest_unindexed_seconds'),
    };
  };
  const readiness = async () => {
    const res = await request<{ status: string; details: Record<string, Record<string, unknown>> }>(
      learner.baseUrl,
      '/health/ready',
    );
    return { code: res.status, body: res.body };
  };
  const accepted = () =>
    stack.db
      .query<{ id: string }>(`SELECT id FROM learnings WHERE status = 'accepted' ORDER BY id`)
      .then((r) => r.map((x) => x.id));

  it('refuses to start on Weaviate without an API key', async () => {
    await assert.rejects(
      ServiceProcess.start(
        'learner',
        stack.env({ GENESIS_VECTOR_STORE: 'weaviate', GENESIS_WEAVIATE_URL: weaviate.url }),
      ),
      /GENESIS_WEAVIATE_API_KEY is required/,
    );
  });

  it('keeps capturing while Weaviate is down and indexes everything exactly once after the restart', async () => {
    const first = await Promise.all([0, 1, 2].map(capture));
    await waitFor(
      'the first learnings indexed',
      async () => (await index.count('genesis')) === first.length,
      {
        timeoutMs: 240_000,
        intervalMs: 250,
      },
    );
    await waitFor('no lag once indexed', async () => (await lagMetrics()).lag === 0);
    const up = await readiness();
    assert.equal(up.code, 200);
    assert.equal(up.body.status, 'ok');
    assert.equal(up.body.details['vector_index']!['store'], 'weaviate');

    await weaviate.stop();
    const during = await Promise.all([3, 4, 5, 6].map(capture));
    // Capture does not wait for the index: every learning is stored while Weaviate is down.
    await waitFor(
      'stored during the outage',
      async () => (await accepted()).length >= first.length + during.length,
      {
        timeoutMs: 60_000,
      },
    );
    // The lag counts exactly the learnings waiting for the index, and readiness stays 200 but says
    // degraded (capture must keep its traffic), naming the index and the lag.
    await waitFor(
      'the lag metric counts the outage',
      async () => (await lagMetrics()).lag === during.length,
      {
        timeoutMs: 120_000,
      },
    );
    assert.ok((await lagMetrics()).oldest! >= 0);
    const degraded = await waitFor(
      'readiness degraded',
      async () => {
        const r = await readiness();
        return r.body.status === 'degraded' && r.body.details['vector_index']!['lag'] === during.length
          ? r
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(degraded.code, 200);
    assert.equal(degraded.body.details['vector_index']!['status'], 'degraded');
    assert.match(
      String(degraded.body.details['vector_index']!['message']),
      /weaviate vector index is unreachable/,
    );
    assert.equal(degraded.body.details['postgres']!['status'], 'up');
    console.log(`during the outage: ${JSON.stringify(degraded.body.details['vector_index'])}`);

    await weaviate.restart();
    const all = await accepted();
    await waitFor(
      'the index caught up',
      async () => {
        await index.close(); // a fresh client after the restart
        return (await index.count('genesis')) === all.length;
      },
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    // Nothing missing, nothing twice: each accepted learning is found as its own nearest neighbour.
    const rows = await stack.db.query<{ learning_id: string; vector: Buffer }>(
      `SELECT learning_id, vector FROM learning_vectors ORDER BY learning_id`,
    );
    assert.deepEqual(rows.map((r) => r.learning_id).sort(), [...all].sort());
    for (const r of rows) {
      const copy = new Uint8Array(r.vector.length);
      copy.set(r.vector);
      const [hit] = await index.search({
        modelId: 'genesis',
        vector: Array.from(new Float32Array(copy.buffer)),
        k: 1,
      });
      assert.equal(hit!.id, r.learning_id);
    }
    assert.equal(await index.count(), all.length);
    await waitFor('the lag back to 0', async () => (await lagMetrics()).lag === 0, { timeoutMs: 60_000 });
    assert.equal((await lagMetrics()).oldest, 0);
    await waitFor('readiness ok again', async () => (await readiness()).body.status === 'ok');
  });

  it('a forgotten, a quarantined and a redacted learning leave Weaviate; the redacted one comes back from its cleaned text', async () => {
    const token = 'ACME-' + 'Q7K2M9X4B8N1V5C3Z6L0P2R4'; // a made-up vendor's credential format
    const extraRules = JSON.stringify([{ id: 'acme-token', pattern: 'ACME-[A-Z0-9]{24}' }]);
    const captureText = async (context: string, correction: string) => {
      const event = capturedLearning({ context, correction });
      await publisher.publish(SUBJECTS.learningCaptured, event);
      return event.data.learning_id;
    };
    const toForget = await captureText('def celsius(f):', '    return (f - 32) * 5 / 9');
    // Only a secret once the new rule knows it: quarantined by the rescan (nothing left to train on).
    const toQuarantine = await captureText('API_TOKEN = os.environ.get("TOKEN") or', `    "${token}"`);
    // A secret in the context only: redacted, stays accepted, embedded again from the cleaned text.
    const toRedact = await captureText(
      `client = Acme("${token}")\nclient.fetch(url)`,
      'client.fetch(url, timeout=10)  # never wait forever on the network',
    );
    const ids = [toForget, toQuarantine, toRedact];
    const vectorOf = async (id: string) => {
      const [r] = await stack.db.query<{ vector: Buffer; embedded_at: Date; indexed_at: Date | null }>(
        `SELECT vector, embedded_at, indexed_at FROM learning_vectors WHERE learning_id = $1`,
        [id],
      );
      if (!r) return undefined;
      const copy = new Uint8Array(r.vector.length);
      copy.set(r.vector);
      return {
        vector: Array.from(new Float32Array(copy.buffer)),
        embeddedAt: r.embedded_at,
        indexedAt: r.indexed_at,
      };
    };
    const inWeaviate = async (id: string, vector: number[]) =>
      (await index.search({ modelId: 'genesis', vector, k: 1 }))[0]?.id === id;
    await waitFor(
      'the three indexed',
      async () => {
        for (const id of ids) {
          const v = await vectorOf(id);
          if (!v?.indexedAt || !(await inWeaviate(id, v.vector))) return false;
        }
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    const before = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, (await vectorOf(id))!])));
    const countBefore = await index.count('genesis');

    await runRescanJob(stack.db, publisher, { kind: 'forget', learningIds: [toForget] });
    await waitFor(
      'the forgotten learning out of Weaviate',
      async () => !(await inWeaviate(toForget, before[toForget].vector)),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    assert.equal(await index.count('genesis'), countBefore - 1);

    // A rule added later: the learner restarts with it, and a rescan cleans the stored rows.
    await learner.stop();
    learner = await ServiceProcess.start(
      'learner',
      stack.env({ ...weaviateEnv(), GENESIS_SECRET_EXTRA_RULES: extraRules }),
    );
    await runRescanJob(stack.db, publisher, { kind: 'rescan', timeoutMs: 120_000 });
    const status = async (id: string) =>
      (await stack.db.query<{ status: string }>(`SELECT status FROM learnings WHERE id = $1`, [id]))[0]!
        .status;
    assert.equal(await status(toForget), 'forgotten');
    assert.equal(await status(toQuarantine), 'quarantined');
    assert.equal(await status(toRedact), 'accepted');
    await waitFor(
      'the quarantined one out of Weaviate, the redacted one re-embedded and back in',
      async () => {
        const redacted = await vectorOf(toRedact);
        const state = {
          quarantinedInWeaviate: await inWeaviate(toQuarantine, before[toQuarantine].vector),
          redactedEmbeddedAgain: redacted !== undefined && redacted.embeddedAt > before[toRedact].embeddedAt,
          redactedIndexed: redacted?.indexedAt != null && (await inWeaviate(toRedact, redacted.vector)),
        };
        if (state.quarantinedInWeaviate || !state.redactedEmbeddedAgain || !state.redactedIndexed)
          throw new Error(JSON.stringify(state)); // the last state is in the timeout's message
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    assert.equal(await vectorOf(toQuarantine), undefined);
    assert.equal(await vectorOf(toForget), undefined);
    // Exactly the accepted learnings are in Weaviate: the two are gone, the redacted one is there once.
    assert.equal(await index.count('genesis'), (await accepted()).length);
    assert.equal(await index.count('genesis'), countBefore - 2);
    await waitFor('no lag after the rescan', async () => (await lagMetrics()).lag === 0);
  });
});
