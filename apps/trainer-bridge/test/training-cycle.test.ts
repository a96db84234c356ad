import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import {
  STREAMS,
  SUBJECTS,
  makeEnvelope,
  type ModelTrainedV1,
  type TrainingCompletedV1,
  type TrainingFailedV1,
} from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import { ARTIFACTS_BUCKET, EventPublisher } from '@genesis/messaging';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  WorkerProcess,
  request,
  waitFor,
  workerAvailable,
} from '@genesis/testing';

const THRESHOLD = 100; // the default learning threshold
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A family of corrections with a shared rule (subtraction → addition), so there is something to learn. */
function learnings(round: number) {
  return Array.from({ length: THRESHOLD }, (_, i) => ({
    kind: 'correction',
    source: `training-test-${round}`,
    language: 'python',
    context: `def total_${round}_${i}(a, b):`,
    model_output: `    return a - b`,
    correction: `    return a + b  # ${round}.${i}`,
  }));
}

interface CycleRow {
  id: string;
  status: string;
  failure_reason: string | null;
  snapshot_id: string | null;
  model_version: string | null;
}

describe(
  'training: threshold → snapshot → worker → model.trained',
  { skip: !workerAvailable() && 'the Python worker environment is missing (npm test creates it)' },
  () => {
    let stack: TestStack;
    let services: ServiceProcess[];
    let gateway: ServiceProcess;
    let worker: WorkerProcess;
    let workerEnv: Record<string, string>;

    const cycles = () => stack.db.query<CycleRow>(`SELECT * FROM improvement_cycles ORDER BY opened_at`);
    const cycleWhere = async (
      what: string,
      pred: (c: CycleRow[]) => CycleRow | undefined,
      timeoutMs = 180_000,
    ) => {
      try {
        return await waitFor(what, async () => pred(await cycles()), { timeoutMs, intervalMs: 250 });
      } catch (err) {
        const jobs = await stack.db.query(
          `SELECT id AS job_id, attempt, status, error, progress FROM jobs WHERE kind = 'training'`,
        );
        throw new Error(
          `${(err as Error).message}\ncycles: ${JSON.stringify(await cycles())}\njobs: ${JSON.stringify(jobs)}\n` +
            `worker: ${worker?.logs.slice(-3000)}\nbridge: ${services[3]?.logs.slice(-3000)}`,
        );
      }
    };
    const post = async (round: number) => {
      const res = await request(gateway.baseUrl, '/api/v1/learnings/batch', {
        json: { learnings: learnings(round) },
        key: TEST_WRITER_KEY,
      });
      assert.equal(res.status, 202, res.text);
    };
    const store = () => new Objm(stack.client.js).open(ARTIFACTS_BUCKET);

    before(async () => {
      stack = await TestStack.start();
      const env = stack.env({
        GENESIS_LEARNING_THRESHOLD: String(THRESHOLD),
        GENESIS_TRAINING_SWEEP_INTERVAL_MS: '500',
        GENESIS_FAILED_CYCLE_COOLDOWN_MINUTES: '0',
      });
      services = await Promise.all(
        ['gateway', 'learner', 'monitor', 'trainer-bridge'].map((app) => ServiceProcess.start(app, env)),
      );
      gateway = services[0]!;
      workerEnv = {
        NATS_URL: stack.nats.url,
        GENESIS_TRAIN_MAX_STEPS: '20',
        GENESIS_PROGRESS_INTERVAL_S: '0.2',
      };
    });

    after(async () => {
      await worker?.stop();
      await Promise.all((services ?? []).map((s) => s.stop()));
      await stack?.dispose();
    });

    it('fails the cycle with the reason when the snapshot is invalid (not retried)', async () => {
      await post(1);
      const training = await cycleWhere(
        'a cycle in training',
        (c) => c.find((x) => x.status === 'training'),
        60_000,
      );
      const [snapshot] = await stack.db.query<{ key: string; sha256: string; learning_ids: string[] }>(
        `SELECT key, sha256, learning_ids FROM dataset_snapshots WHERE cycle_id = $1`,
        [training.id],
      );
      assert.ok(
        snapshot && snapshot.learning_ids.length > 0,
        'the snapshot records the ids of its learnings',
      );
      // Corrupt the stored snapshot before any worker has read it.
      await (
        await store()
      ).putBlob({ name: snapshot.key }, new TextEncoder().encode('{"this is": "not the snapshot"}\n'));

      worker = new WorkerProcess(workerEnv).start();
      const failed = await cycleWhere('the cycle failed', (c) =>
        c.find((x) => x.id === training.id && x.status === 'failed'),
      );
      assert.match(failed.failure_reason ?? '', /[A-Z_]+: .+/);
      const [jobs] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE kind = 'training' AND cycle_id = $1`,
        [training.id],
      );
      assert.equal(jobs!.n, 1, 'a non-retryable failure is not retried');
      const { event } = await stack.lastEvent<{ cycle_id: string }>(
        SUBJECTS.cycleFailed,
        (e) => e.data.cycle_id === training.id,
      );
      assert.equal(event.data.cycle_id, training.id);
    });

    it('runs the next threshold through a real tiny-model training to model.trained', async () => {
      await post(2); // the failed cycle's learnings were snapshotted: the counter starts again
      const trained = await cycleWhere(
        'a trained cycle',
        (c) => c.find((x) => x.status === 'trained'),
        90_000,
      );
      const { event } = await stack.lastEvent<ModelTrainedV1>(
        SUBJECTS.modelTrained,
        (e) => e.cycle_id === trained.id,
      );
      assert.equal(event.data.cycle_id, trained.id);
      assert.equal(event.cycle_id, trained.id);
      assert.match(event.data.model_version, /^genesis-\d{8}-\d{6}$/);
      assert.equal(trained.model_version, event.data.model_version);

      const adapter = await (await store()).getBlob(event.data.artifact.key);
      assert.ok(adapter && adapter.length === event.data.artifact.size_bytes);
      assert.equal(
        sha256(adapter),
        event.data.artifact.sha256,
        'the adapter in the object store is the one announced',
      );

      const [version] = await stack.db.query<{ status: string; snapshot_id: string; job_id: string }>(
        `SELECT status, snapshot_id, job_id FROM model_versions WHERE version = $1`,
        [event.data.model_version],
      );
      assert.equal(version!.status, 'candidate');
      assert.equal(version!.snapshot_id, trained.snapshot_id);

      // The snapshot: content-addressed, and no held-out learning in it.
      const [snap] = await stack.db.query<{ key: string; sha256: string; eval_learning_ids: string[] }>(
        `SELECT key, sha256, eval_learning_ids FROM dataset_snapshots WHERE id = $1`,
        [trained.snapshot_id],
      );
      const bytes = await (await store()).getBlob(snap!.key);
      assert.equal(sha256(bytes!), snap!.sha256);
      const ids = new TextDecoder()
        .decode(bytes!)
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { learning_id: string }).learning_id);
      for (const heldOut of snap!.eval_learning_ids) assert.ok(!ids.includes(heldOut));

      // A second completion of the same job (a redelivery, a replayed event) changes nothing.
      const [job] = await stack.db.query<{ result: TrainingCompletedV1 }>(
        `SELECT result FROM jobs WHERE id = $1`,
        [version!.job_id],
      );
      const replay = makeEnvelope(SUBJECTS.trainingCompleted, job!.result, {
        source: 'test',
        modelId: 'genesis',
        cycleId: trained.id,
      });
      await new EventPublisher(stack.client).publish(SUBJECTS.trainingCompleted, replay);
      await waitFor('the replay consumed', async () => {
        const info = await stack.client.jsm.consumers.info(
          STREAMS.events,
          'trainer-bridge-training-completed',
        );
        return info.num_pending === 0 && info.num_ack_pending === 0;
      });
      const [versions] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM model_versions`);
      assert.equal(versions!.n, 1);
      const info = await stack.client.jsm.streams.info(STREAMS.events, {
        subjects_filter: SUBJECTS.modelTrained,
      });
      assert.equal(info.state.subjects?.[SUBJECTS.modelTrained], 1, 'exactly one model.trained');
    });

    /** Ends the current cycle so that the next threshold can open another (no evaluator in this test). */
    const endActiveCycle = async () => {
      await stack.db.dataSource.transaction(async (m) => {
        for (const c of await m.query(
          `SELECT id FROM improvement_cycles WHERE status NOT IN ('deployed', 'rejected', 'failed')`,
        )) {
          await transitionCycle(m, (c as { id: string }).id, 'failed', {
            failure: { code: 'TEST_ENDED', message: 'ended by the test' },
          });
        }
      });
    };

    it('retries a retryable training failure a bounded number of times, then fails the cycle', async () => {
      await worker.stop();
      await endActiveCycle();
      await post(3);
      const cycle = await cycleWhere(
        'a cycle in training',
        (c) => c.find((x) => x.status === 'training'),
        60_000,
      );
      const publisher = new EventPublisher(stack.client);
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [job] = await waitFor(`attempt ${attempt} queued`, async () => {
          const rows = await stack.db.query<{ job_id: string }>(
            `SELECT id AS job_id FROM jobs WHERE kind = 'training' AND cycle_id = $1 AND attempt = $2 AND status = 'queued'`,
            [cycle.id, attempt],
          );
          return rows.length ? rows : undefined;
        });
        const failure: TrainingFailedV1 = {
          job_id: job!.job_id,
          reason: { code: 'CUDA_OOM', message: 'out of memory (simulated)' },
          retryable: true,
        };
        await publisher.publish(
          SUBJECTS.trainingFailed,
          makeEnvelope(SUBJECTS.trainingFailed, failure, {
            source: 'test',
            modelId: 'genesis',
            cycleId: cycle.id,
          }),
        );
      }
      const failed = await cycleWhere('the cycle failed after 3 attempts', (c) =>
        c.find((x) => x.id === cycle.id && x.status === 'failed'),
      );
      assert.match(failed.failure_reason ?? '', /^CUDA_OOM: .*after 3 attempt/);
      const jobs = await stack.db.query(
        `SELECT attempt FROM jobs WHERE kind = 'training' AND cycle_id = $1`,
        [cycle.id],
      );
      assert.equal(jobs.length, 3, 'GENESIS_TRAINING_MAX_ATTEMPTS (3) jobs, no more');
    });

    it('survives a worker killed mid-training: the job is redelivered and one model.trained follows', async () => {
      await post(4);
      const cycle = await cycleWhere(
        'a cycle in training',
        (c) => c.find((x) => x.status === 'training'),
        60_000,
      );
      worker = new WorkerProcess({
        ...workerEnv,
        GENESIS_TRAIN_MAX_STEPS: '200',
        GENESIS_CHECKPOINT_EVERY: '5',
      }).start();
      await waitFor(
        'training under way',
        async () => {
          const [job] = await stack.db.query<{ step: number | null }>(
            `SELECT (progress->>'step')::int AS step FROM jobs WHERE kind = 'training' AND cycle_id = $1`,
            [cycle.id],
          );
          return (job?.step ?? 0) >= 10;
        },
        { timeoutMs: 120_000, intervalMs: 100 },
      );
      await worker.stop('SIGKILL');
      worker = new WorkerProcess({
        ...workerEnv,
        GENESIS_TRAIN_MAX_STEPS: '200',
        GENESIS_CHECKPOINT_EVERY: '5',
      }).start();
      const trained = await cycleWhere('the cycle trained after the kill', (c) =>
        c.find((x) => x.id === cycle.id && x.status === 'trained'),
      );
      const view = await request(gateway.baseUrl, `/api/v1/cycles/${trained.id}`, { key: TEST_ADMIN_KEY });
      const training = view.body['training'] as { status: string; progress: { step: number } }[];
      assert.equal(training[0]!.status, 'completed');
      assert.ok(training[0]!.progress.step > 10, "the worker's progress is visible in the cycle");
      const versions = await stack.db.query(`SELECT version FROM model_versions WHERE cycle_id = $1`, [
        trained.id,
      ]);
      assert.equal(versions.length, 1);
      const [job] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE kind = 'training' AND cycle_id = $1`,
        [cycle.id],
      );
      assert.equal(job!.n, 1, 'the same job was redelivered, not a new one queued');
      const info = await stack.client.jsm.streams.info(STREAMS.events, {
        subjects_filter: SUBJECTS.modelTrained,
      });
      assert.equal(info.state.subjects?.[SUBJECTS.modelTrained], 2, 'one model.trained per trained cycle');
    });
  },
);
