import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBJECTS, makeEnvelope, type ThresholdReachedV1 } from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import { EventPublisher } from '@genesis/messaging';
import { EmbedderProcess, ServiceProcess, TestStack, waitFor, workerAvailable } from '@genesis/testing';
import { EmbeddingClient } from '@genesis/vectors';

const MODEL = 'sliced-model';
const TOPIC_LEARNINGS = join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'libs',
  'contracts',
  'semantic',
  'topic-learnings.v1.jsonl',
);

interface TopicLearning {
  id: string;
  topic: string;
  context: string;
  correction: string;
}

interface Slicing {
  status: string;
  version?: string;
  k?: number;
  sliced?: number;
  unsliced?: number;
  reason?: string;
  slices?: { slice_id: string; label: string; size: number }[];
}

/**
 * Topic slices at snapshot time (ADR 0020), through the real trainer-bridge and the real Python
 * embedder (all-MiniLM-L6-v2, offline), each as its own NATS user with only its permissions: the
 * labelled topic learnings, embedded for real, are sliced when the cycle's snapshot is built; every
 * learning gets a slice, the slices follow the topics, and the same learnings give the same version.
 */
describe(
  'trainer-bridge: every snapshot is sliced into topics',
  {
    skip: !workerAvailable() && 'the Python worker environment is missing (npm test creates it)',
    timeout: 600_000,
  },
  () => {
    let stack: TestStack;
    let embedder: EmbedderProcess;
    let bridge: ServiceProcess;
    let publisher: EventPublisher;
    const topics = readFileSync(TOPIC_LEARNINGS, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => ({ ...(JSON.parse(l) as TopicLearning), uuid: randomUUID() }));

    before(async () => {
      stack = await TestStack.start({ natsUsers: true });
      embedder = await new EmbedderProcess({
        NATS_URL: stack.nats.url,
        ...stack.natsEnv('embedder'),
      }).start();
      // 40 learnings on 4 topics: the default minimum slice size (50) would allow one slice.
      bridge = await ServiceProcess.start('trainer-bridge', {
        ...stack.env({ GENESIS_SLICE_MIN_SIZE: '8' }),
        ...stack.natsEnv('trainer-bridge'),
      });
      publisher = new EventPublisher(stack.client);
      // The learnings and their stored embeddings, as the learner keeps them (ADR 0018).
      const embeddings = await new EmbeddingClient(stack.client.connection, 60_000).learnings(topics);
      for (const [i, t] of topics.entries()) {
        await stack.db.query(
          `INSERT INTO learnings (id, model_id, kind, source, language, context, correction, content_hash, status, event_id, captured_at)
           VALUES ($1, $2, 'correction', 'slices-test', 'python', $3, $4, $5, 'accepted', $1, now())`,
          [t.uuid, MODEL, t.context, t.correction, createHash('sha256').update(t.id).digest('hex')],
        );
        await stack.db.query(
          `INSERT INTO learning_vectors (learning_id, model_id, embedding_model, embedding_version, dimensions, vector)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            t.uuid,
            MODEL,
            embeddings.model,
            embeddings.version,
            embeddings.dimensions,
            Buffer.from(Float32Array.from(embeddings.vectors[i]!).buffer),
          ],
        );
      }
    });

    after(async () => {
      await bridge?.stop();
      await embedder?.stop();
      await stack?.dispose();
    });

    /** Opens a cycle, announces it, and waits for its snapshot's slicing. */
    async function snapshotSlicing(): Promise<{ cycleId: string; slicing: Slicing; reason: string }> {
      const opened = await stack.db.dataSource.transaction((m) =>
        openCycle(m, {
          modelId: MODEL,
          trigger: 'manual',
          reason: 'slices test',
          counts: {},
          now: new Date(),
        }),
      );
      assert.ok(opened.opened);
      const cycle = opened.cycle;
      const data: ThresholdReachedV1 = {
        cycle_id: cycle.id,
        model_id: MODEL,
        trigger: 'manual',
        reason: 'slices test',
        opened_at: new Date().toISOString(),
        counts: {
          learnings_since_training: topics.length,
          learning_threshold: 100,
          days_since_training: 0,
          time_threshold_days: 62,
        },
      };
      await publisher.publish(
        SUBJECTS.thresholdReached,
        makeEnvelope(SUBJECTS.thresholdReached, data, {
          source: 'monitor',
          modelId: MODEL,
          cycleId: cycle.id,
        }),
      );
      const row = await waitFor(
        'the snapshot with its slicing',
        async () => {
          const [r] = await stack.db.query<{ slicing: Slicing | null }>(
            `SELECT slicing FROM dataset_snapshots WHERE cycle_id = $1`,
            [cycle.id],
          );
          return r?.slicing ? r : undefined;
        },
        // Generous: the shipped suites are embedded first (ADR 0018), slowly on a loaded 2-core CI box.
        { timeoutMs: 180_000, intervalMs: 250 },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\nbridge: ${bridge.logs.slice(-3000)}`);
      });
      const [transition] = await stack.db.query<{ reason: string }>(
        `SELECT reason FROM cycle_transitions WHERE cycle_id = $1 AND to_status = 'dataset_ready'`,
        [cycle.id],
      );
      return { cycleId: cycle.id, slicing: row.slicing!, reason: transition?.reason ?? '' };
    }

    it('slices every learning of the snapshot by topic and keeps each one’s slice', async () => {
      const { cycleId, slicing, reason } = await snapshotSlicing();
      process.stdout.write(`# ${JSON.stringify(slicing.slices)} (k=${slicing.k})\n# ${reason}\n`);
      assert.equal(slicing.status, 'sliced', JSON.stringify(slicing));
      assert.equal(slicing.sliced, topics.length);
      assert.equal(slicing.unsliced, 0);
      assert.ok(slicing.k! >= 4 && slicing.k! <= 5, `k=${slicing.k}`);
      assert.match(reason, new RegExp(`; ${slicing.k} topic slices \\(s1 "`));
      const rows = await stack.db.query<{ learning_id: string; slice_id: string; slice_label: string }>(
        `SELECT learning_id, slice_id, slice_label FROM learning_slices WHERE clustering_version = $1`,
        [slicing.version],
      );
      assert.equal(rows.length, topics.length);
      const topicOf = new Map<string, string>(topics.map((t) => [t.uuid, t.topic]));
      const bySlice = new Map<string, Map<string, number>>();
      for (const r of rows) {
        const counts = bySlice.get(r.slice_id) ?? new Map<string, number>();
        counts.set(topicOf.get(r.learning_id)!, (counts.get(topicOf.get(r.learning_id)!) ?? 0) + 1);
        bySlice.set(r.slice_id, counts);
      }
      const purity = [...bySlice.values()].reduce((sum, c) => sum + Math.max(...c.values()), 0) / rows.length;
      process.stdout.write(`# snapshot slices: purity ${purity.toFixed(3)} over ${rows.length} learnings\n`);
      assert.ok(purity >= 0.9, `purity ${purity}`);
      // The cycle goes on to training: slicing never holds it up.
      const [cycle] = await stack.db.query<{ status: string }>(
        `SELECT status FROM improvement_cycles WHERE id = $1`,
        [cycleId],
      );
      assert.equal(cycle!.status, 'training');
      await stack.db.dataSource.transaction((m) =>
        transitionCycle(m, cycleId, 'failed', {
          failure: { code: 'TEST', message: 'done with this cycle' },
          failedEventSource: 'trainer-bridge',
        }),
      );
    });

    it('the same learnings give the same slicing version in the next snapshot', async () => {
      const [first] = await stack.db.query<{ slicing: Slicing }>(
        `SELECT slicing FROM dataset_snapshots ORDER BY created_at LIMIT 1`,
      );
      const { slicing } = await snapshotSlicing();
      assert.equal(slicing.version, first!.slicing.version);
    });
  },
);
