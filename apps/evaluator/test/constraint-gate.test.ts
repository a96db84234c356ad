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

const ITEMS = 40;
/** The worker's wall time per job: 1 s over 40 items is a mean of 25 ms per item. */
const DURATION_SECONDS = 1;

interface Case {
  model: string;
  family: Record<string, number>;
  /** The task's constraints, carried on the cycle (improvement_cycles.targets). */
  task?: Record<string, number>;
  /** The candidate's stored artifact size (model_artifacts.size_bytes). */
  sizeBytes?: number;
}

/**
 * The constraint part of the gate through the real evaluator and Postgres (ADR 0027). The worker
 * is played by the test so the measured latency is exact (25 ms per item): each family target is
 * either clearly broken (0.001 ms) or clearly met (10 minutes), never a race against CPU timing.
 * The candidate is far better on accuracy in every case, so only a constraint can reject it.
 */
describe('evaluator: latency and size constraints', () => {
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

  /** A family, a cycle in `evaluating` with one queued evaluation job per role. */
  async function evaluatingCycle(c: Case) {
    const evaluationId = randomUUID();
    const versions = { candidate: `${c.model}-cand`, champion: `${c.model}-champ` };
    const jobs = { candidate: randomUUID(), champion: randomUUID() };
    const items = Array.from({ length: ITEMS }, (_, i) => ({
      id: `item-${i}`,
      candidate: i < 36, // 0.9
      champion: i < 8, // 0.2
    }));
    await stack.db.query(
      `INSERT INTO model_families (id, constraints, registered_by) VALUES ($1, $2, 'test')`,
      [c.model, JSON.stringify(c.family)],
    );
    const cycleId = await stack.db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: c.model,
        trigger: 'manual',
        reason: 'constraint gate test',
        counts: {},
        now: new Date(),
      });
      assert.ok(opened.opened);
      const id = opened.cycle.id;
      if (c.task)
        await m.query(`UPDATE improvement_cycles SET targets = $2 WHERE id = $1`, [
          id,
          JSON.stringify({ target_metrics: {}, constraints: c.task }),
        ]);
      const snapshotId = randomUUID();
      await m.query(
        `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
           train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff)
         VALUES ($1, $2, $3, $4, $5, 'snapshots/x.jsonl', 'eval-sets/x.jsonl', $4, 0, 0, $6, '{}', '{}', now())`,
        [snapshotId, c.model, id, '0'.repeat(64), ARTIFACTS_BUCKET, ITEMS],
      );
      for (const version of Object.values(versions))
        await m.query(
          `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'candidate', '{}')`,
          [version, c.model],
        );
      if (c.sizeBytes !== undefined)
        await m.query(
          `INSERT INTO model_artifacts (version, model_id, kind, bucket, key, sha256, size_bytes)
           VALUES ($1, $2, 'lora-adapter', $3, 'adapters/x', $4, $5)`,
          [versions.candidate, c.model, ARTIFACTS_BUCKET, '0'.repeat(64), c.sizeBytes],
        );
      await m.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, champion_version, base_model, suite, status)
         VALUES ($1, $2, $3, $4, $5, 'tiny', $6, 'running')`,
        [
          evaluationId,
          id,
          c.model,
          versions.candidate,
          versions.champion,
          JSON.stringify({
            bucket: ARTIFACTS_BUCKET,
            key: 'eval-suites/x.jsonl',
            sha256: '0'.repeat(64),
            items: ITEMS,
            in_domain: ITEMS,
            regression: 0,
          }),
        ],
      );
      for (const role of ['candidate', 'champion'] as const)
        await m.query(
          `INSERT INTO jobs (id, kind, cycle_id, parent_id, role, model_id, status, attempt, max_attempts, deadline)
           VALUES ($1, 'evaluation', $2, $3, $4, $5, 'queued', 1, 3, now() + interval '1 hour')`,
          [jobs[role], id, evaluationId, role, c.model],
        );
      await transitionCycle(m, id, 'dataset_ready', { patch: { snapshot_id: snapshotId } });
      for (const to of ['training', 'trained', 'evaluating'] as const)
        await transitionCycle(
          m,
          id,
          to,
          to === 'evaluating' ? { patch: { evaluation_id: evaluationId } } : {},
        );
      return id;
    });
    return { model: c.model, cycleId, evaluationId, versions, jobs, items };
  }

  /** The worker's part for one role: the results artifact and evaluation.completed with its duration. */
  async function complete(c: Awaited<ReturnType<typeof evaluatingCycle>>, role: EvaluationRole) {
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
      duration_seconds: DURATION_SECONDS,
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

  async function evaluate(c: Case) {
    const cycle = await evaluatingCycle(c);
    await complete(cycle, 'candidate');
    await complete(cycle, 'champion');
    const { event } = await stack.lastEvent<ModelEvaluatedV1>(
      SUBJECTS.modelEvaluated,
      (e) => e.cycle_id === cycle.cycleId,
      30_000,
    );
    const [stored] = await stack.db.query<{ decision: string; reason: string }>(
      `SELECT decision, reason FROM evaluations WHERE id = $1`,
      [cycle.evaluationId],
    );
    process.stdout.write(`# ${event.data.reason}\n`);
    return { event: event.data, stored: stored! };
  }

  it('rejects a far better candidate whose measured latency breaks the family target', async () => {
    const { event, stored } = await evaluate({
      model: 'latency-broken',
      family: { latency_target_ms: 0.001 },
    });
    assert.ok(Math.abs(event.delta - 0.7) < 1e-9, String(event.delta));
    assert.equal(event.decision, 'reject');
    assert.equal(stored.decision, 'reject');
    assert.match(
      event.reason,
      /^reject: latency_constraint: mean latency 25 ms per item > 0\.001 \(family\); accuracy/,
    );
    assert.deepEqual(event.constraints, [
      {
        constraint: 'latency_target_ms',
        code: 'latency_constraint',
        limit: 0.001,
        source: 'family',
        value: 25,
        ok: false,
      },
    ]);
  });

  it("rejects on the task's size constraint when it is stricter than the family's", async () => {
    const { event } = await evaluate({
      model: 'size-broken',
      family: { latency_target_ms: 600_000, max_size_bytes: 1_000_000 },
      task: { max_size_bytes: 1000 },
      sizeBytes: 5000,
    });
    assert.equal(event.decision, 'reject');
    assert.match(
      event.reason,
      /^reject: size_constraint: artifact size 5000 bytes > 1000 \(task\); mean latency 25 ms per item ≤ 600000 \(family\);/,
    );
    assert.deepEqual(
      event.constraints?.map((c) => [c.code, c.source, c.ok]),
      [
        ['latency_constraint', 'family', true],
        ['size_constraint', 'task', false],
      ],
    );
  });

  it('promotes a candidate that keeps every constraint, and reports them', async () => {
    const { event } = await evaluate({
      model: 'constraints-kept',
      family: { latency_target_ms: 600_000 },
      task: { max_size_bytes: 10_000 },
      sizeBytes: 5000,
    });
    assert.equal(event.decision, 'promote');
    assert.deepEqual(
      event.constraints?.map((c) => [c.constraint, c.value, c.ok]),
      [
        ['latency_target_ms', 25, true],
        ['max_size_bytes', 5000, true],
      ],
    );
  });
});
