import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import {
  SUBJECTS,
  makeEnvelope,
  type EvalItemResult,
  type EvaluationCompletedV1,
  type EvaluationMetrics,
  type EvaluationRole,
  type ModelEvaluatedV1,
} from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import { ARTIFACTS_BUCKET, EventPublisher } from '@genesis/messaging';
import { ServiceProcess, TestStack } from '@genesis/testing';

/** Per slice: [candidate bits, champion bits] of its in-domain items (1 = correct). */
type Outcomes = Record<string, [string, string]>;

const ones = (n: number) => '1'.repeat(n);
const zeros = (n: number) => '0'.repeat(n);
/** Two topics where the candidate gains a lot; the third decides the case. */
const GAINING: Outcomes = {
  s1: [ones(18) + zeros(2), ones(3) + zeros(17)],
  s2: [ones(18) + zeros(2), ones(3) + zeros(17)],
};
const LABELS: Record<string, string> = {
  s1: 'cur, execute, sql',
  s2: 're, regex, findall',
  s3: 'requests, get, url',
};

/**
 * The slice gate through the real evaluator and Postgres (ADR 0020): the cycle's snapshot has topic
 * slices (learning_slices, as the trainer-bridge writes them), the worker's per-item results are
 * played by the test, and the evaluator's decision must reject a candidate whose average improves
 * significantly when one slice regresses significantly, and promote it when that slice only loses
 * by noise.
 */
describe('evaluator: the slice gate', () => {
  let stack: TestStack;
  let evaluator: ServiceProcess;
  let publisher: EventPublisher;

  before(async () => {
    stack = await TestStack.start();
    evaluator = await ServiceProcess.start('evaluator', stack.env({}));
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await evaluator?.stop();
    await stack?.dispose();
  });

  /** Learnings, a sliced snapshot, and a cycle in `evaluating` with one queued job per role. */
  async function slicedCycle(model: string, outcomes: Outcomes) {
    const items = Object.entries(outcomes).flatMap(([slice, [cand, champ]]) =>
      [...cand].map((bit, i) => ({
        id: randomUUID(),
        slice,
        candidate: bit === '1',
        champion: champ[i] === '1',
      })),
    );
    const version = `kmeans-silhouette.v1:${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const evaluationId = randomUUID();
    const versions = {
      candidate: `cand-${evaluationId.slice(0, 8)}`,
      champion: `champ-${evaluationId.slice(0, 8)}`,
    };
    const jobs = { candidate: randomUUID(), champion: randomUUID() };
    const cycleId = await stack.db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: model,
        trigger: 'manual',
        reason: 'slice gate test',
        counts: {},
        now: new Date(),
      });
      assert.ok(opened.opened);
      const id = opened.cycle.id;
      for (const it of items) {
        await m.query(
          `INSERT INTO learnings (id, model_id, kind, source, context, correction, content_hash, status, event_id, captured_at)
           VALUES ($1, $2, 'correction', 'test', $3, 'x', $4, 'accepted', $1, now())`,
          [it.id, model, `${it.slice} item`, createHash('sha256').update(it.id).digest('hex')],
        );
        await m.query(
          `INSERT INTO learning_slices (clustering_version, learning_id, model_id, slice_id, slice_label)
           VALUES ($1, $2, $3, $4, $5)`,
          [version, it.id, model, it.slice, LABELS[it.slice]],
        );
      }
      const snapshotId = randomUUID();
      await m.query(
        `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
           train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff, slicing)
         VALUES ($1, $2, $3, $4, $5, 'snapshots/x.jsonl', 'eval-sets/x.jsonl', $4, 0, 0, $6, '{}', $7::uuid[], now(), $8)`,
        [
          snapshotId,
          model,
          id,
          '0'.repeat(64),
          ARTIFACTS_BUCKET,
          items.length,
          items.map((it) => it.id),
          JSON.stringify({ status: 'sliced', version, method: 'kmeans-silhouette.v1', k: 3 }),
        ],
      );
      for (const version of Object.values(versions)) {
        await m.query(
          `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'candidate', '{}')`,
          [version, model],
        );
      }
      await m.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, champion_version, base_model, suite, status)
         VALUES ($1, $2, $3, $4, $5, 'tiny', $6, 'running')`,
        [
          evaluationId,
          id,
          model,
          versions.candidate,
          versions.champion,
          JSON.stringify({
            bucket: ARTIFACTS_BUCKET,
            key: 'eval-suites/x.jsonl',
            sha256: '0'.repeat(64),
            items: items.length,
            in_domain: items.length,
            regression: 0,
          }),
        ],
      );
      for (const role of ['candidate', 'champion'] as const) {
        await m.query(
          `INSERT INTO jobs (id, kind, cycle_id, parent_id, role, model_id, status, attempt, max_attempts, deadline)
           VALUES ($1, 'evaluation', $2, $3, $4, $5, 'queued', 1, 3, now() + interval '1 hour')`,
          [jobs[role], id, evaluationId, role, model],
        );
      }
      await transitionCycle(m, id, 'dataset_ready', { patch: { snapshot_id: snapshotId } });
      for (const to of ['training', 'trained', 'evaluating'] as const) {
        await transitionCycle(
          m,
          id,
          to,
          to === 'evaluating' ? { patch: { evaluation_id: evaluationId } } : {},
        );
      }
      return id;
    });
    return { model, cycleId, evaluationId, versions, jobs, items };
  }

  /** The worker's part for one role: the results artifact and evaluation.completed. */
  async function complete(c: Awaited<ReturnType<typeof slicedCycle>>, role: EvaluationRole) {
    const results: EvalItemResult[] = c.items.map((it) => ({
      item_id: it.id,
      split: 'in_domain',
      exact: it[role],
      functional: null,
      correct: it[role],
      nll: 1,
      tokens: 3,
      bleu: 0,
      output: it[role] ? 'x' : 'y',
    }));
    const bytes = new TextEncoder().encode(results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const key = `eval-results/${c.evaluationId}/${c.jobs[role]}.jsonl`;
    const store = await new Objm(stack.client.js).open(ARTIFACTS_BUCKET);
    await store.putBlob({ name: key }, bytes);
    const accuracy = results.filter((r) => r.correct).length / results.length;
    const metrics: EvaluationMetrics = {
      accuracy,
      exact_match: accuracy,
      functional_pass_rate: null,
      perplexity: null,
      bleu: null,
      success_rate: null,
      items: results.length,
      in_domain_items: results.length,
      regression_items: 0,
      functional_items: 0,
    };
    const data: EvaluationCompletedV1 = {
      job_id: c.jobs[role],
      evaluation_id: c.evaluationId,
      role,
      model_version: c.versions[role],
      base_model: 'tiny',
      suite_sha256: '0'.repeat(64),
      metrics,
      results: {
        bucket: ARTIFACTS_BUCKET,
        key,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        items: results.length,
      },
      duration_seconds: 1,
      device: 'cpu',
    };
    await publisher.publish(
      SUBJECTS.evaluationCompleted,
      makeEnvelope(SUBJECTS.evaluationCompleted, data, {
        source: 'trainer-worker',
        modelId: c.model,
        cycleId: c.cycleId,
      }),
    );
  }

  async function evaluate(model: string, outcomes: Outcomes) {
    const c = await slicedCycle(model, outcomes);
    await complete(c, 'candidate');
    await complete(c, 'champion');
    const { event } = await stack.lastEvent<ModelEvaluatedV1>(
      SUBJECTS.modelEvaluated,
      (e) => e.cycle_id === c.cycleId,
      30_000,
    );
    const rows = await stack.db.query<{ item_id: string; slice_id: string | null }>(
      `SELECT item_id, slice_id FROM evaluation_items WHERE evaluation_id = $1`,
      [c.evaluationId],
    );
    const [stored] = await stack.db.query<{ decision: string; result: ModelEvaluatedV1 }>(
      `SELECT decision, result FROM evaluations WHERE id = $1`,
      [c.evaluationId],
    );
    return { c, event: event.data, rows, stored: stored! };
  }

  it('rejects a candidate whose average improves significantly when one slice regresses significantly', async () => {
    const { c, event, rows, stored } = await evaluate('slice-regression-model', {
      ...GAINING,
      s3: [zeros(10) + ones(2), ones(12)],
    });
    process.stdout.write(`# ${event.reason}\n`);
    assert.ok(event.delta > 0.1 && event.test.significant, 'the average improves significantly');
    assert.equal(event.decision, 'reject');
    assert.equal(stored.decision, 'reject');
    assert.deepEqual(event.slices?.regressed, ['s3']);
    assert.match(
      event.reason,
      /slice_regression: slice s3 "requests, get, url" \(12 items\) 1\.0000 → 0\.1667 \(−0\.8333; 0 vs 10 discordant\), Holm-adjusted p=0\.00293 < 0\.05/,
    );
    assert.deepEqual(
      stored.result.slices?.slices.map((s) => [s.slice_id, s.items, s.status]),
      [
        ['s1', 20, 'ok'],
        ['s2', 20, 'ok'],
        ['s3', 12, 'regressed'],
      ],
    );
    // Every in-domain item row says which slice it was judged in.
    const sliceOf = new Map<string, string>(c.items.map((it) => [it.id, it.slice]));
    assert.equal(rows.length, c.items.length);
    for (const row of rows) assert.equal(row.slice_id, sliceOf.get(row.item_id));
    const [cycle] = await stack.db.query<{ status: string }>(
      `SELECT status FROM improvement_cycles WHERE id = $1`,
      [c.cycleId],
    );
    assert.equal(cycle!.status, 'evaluated');
  });

  it('promotes the same gain when the third slice only loses by noise', async () => {
    const { event } = await evaluate('slice-noise-model', {
      ...GAINING,
      s3: ['100' + ones(6) + zeros(3), '011' + ones(7) + zeros(2)],
    });
    process.stdout.write(`# ${event.reason}\n`);
    const s3 = event.slices!.slices.find((s) => s.slice_id === 's3')!;
    assert.ok(s3.delta < 0);
    assert.equal(s3.status, 'ok');
    assert.equal(event.decision, 'promote');
    assert.match(event.reason, /slices: 3 of 3 tested, none significantly worse \(Holm, α=0\.05\)/);
  });
});
