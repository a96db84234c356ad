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
  waitFor,
} from '@genesis/testing';

/**
 * The learner on Weaviate (GENESIS_VECTOR_STORE=weaviate, API key required), with a Weaviate outage
 * during ingest: capture goes on, the index catches up after the restart, nothing is missing or
 * duplicated (ADR 0018). Real Weaviate, real embedder.
 */
describe('learner: Weaviate stopped during ingest', { timeout: 50 * 60_000 }, () => {
  let stack: TestStack;
  let weaviate: TestWeaviate;
  let learner: ServiceProcess;
  let embedder: EmbedderProcess;
  let publisher: EventPublisher;
  let index: WeaviateVectorIndex;

  before(
    async () => {
      stack = await TestStack.start();
      weaviate = await TestWeaviate.start();
      embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
      learner = await ServiceProcess.start(
        'learner',
        stack.env({
          GENESIS_VECTOR_STORE: 'weaviate',
          GENESIS_WEAVIATE_URL: weaviate.url,
          GENESIS_WEAVIATE_GRPC_PORT: String(weaviate.grpcPort),
          GENESIS_WEAVIATE_API_KEY: weaviate.apiKey,
        }),
      );
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
  });
});
