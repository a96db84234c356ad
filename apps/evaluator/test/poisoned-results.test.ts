import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import {
  SUBJECTS,
  fromStorableJson,
  fromStorableText,
  makeEnvelope,
  type EvalItemResult,
  type EvaluationCompletedV1,
  type EvaluationMetrics,
  type EvaluationRole,
} from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import { ARTIFACTS_BUCKET, EventPublisher } from '@genesis/messaging';
import { ServiceProcess, TestStack, waitFor } from '@genesis/testing';

const MODEL = 'poison-model';
const DLQ_MODEL = 'dead-letter-model';

/** What a model may generate that Postgres refuses as text: U+0000 and unpaired surrogates. */
const OUTPUTS: Record<EvaluationRole, string[]> = {
  candidate: [
    'def f():\n    return 1\u0000',
    'x\ud800y',
    '\udfff',
    'ok → ✓ 😀',
    '[genesis:escaped-v1]\\u0000',
  ],
  champion: ['\u0000\u0000', 'fine', 'a\\u0000b\ud83d', 'ok → ✓ 😀', 'plain'],
};

const METRICS: EvaluationMetrics = {
  accuracy: 0.4,
  exact_match: 0.4,
  functional_pass_rate: null,
  perplexity: 1.5,
  bleu: 10,
  success_rate: null,
  items: 5,
  in_domain_items: 5,
  regression_items: 0,
  functional_items: 0,
};

/**
 * Model output is untrusted input too (ADR 0014): a real evaluator and Postgres store per-item
 * outputs holding NUL and lone surrogates faithfully, and a result event forced into the DLQ
 * fails its cycle at once (the monitor reads GENESIS_DLQ). The worker is played by the test: its
 * results artifact and evaluation.completed, crafted.
 */
describe('evaluator: poisoned model output and dead-lettered results', () => {
  let stack: TestStack;
  let evaluator: ServiceProcess;
  let monitor: ServiceProcess;
  let publisher: EventPublisher;

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({ GENESIS_MONITOR_MODELS: `${MODEL},${DLQ_MODEL}` });
    [evaluator, monitor] = await Promise.all([
      ServiceProcess.start('evaluator', env),
      ServiceProcess.start('monitor', env),
    ]);
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await Promise.all([evaluator?.stop(), monitor?.stop()]);
    await stack?.dispose();
  });

  /** A cycle in `evaluating` with its evaluation and one queued job per role, as the evaluator leaves them. */
  async function evaluatingCycle(model: string) {
    const cycleId = await stack.db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: model,
        trigger: 'manual',
        reason: 'poisoned results test',
        counts: {},
        now: new Date(),
      });
      assert.ok(opened.opened);
      return opened.cycle.id;
    });
    const evaluationId = randomUUID();
    const versions = { candidate: `cand-${cycleId.slice(0, 8)}`, champion: `champ-${cycleId.slice(0, 8)}` };
    const jobs = { candidate: randomUUID(), champion: randomUUID() };
    await stack.db.dataSource.transaction(async (m) => {
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
          cycleId,
          model,
          versions.candidate,
          versions.champion,
          JSON.stringify({
            bucket: ARTIFACTS_BUCKET,
            key: 'eval-suites/x.jsonl',
            sha256: '0'.repeat(64),
            items: 5,
            in_domain: 5,
            regression: 0,
          }),
        ],
      );
      for (const role of ['candidate', 'champion'] as const) {
        await m.query(
          `INSERT INTO jobs (id, kind, cycle_id, parent_id, role, model_id, status, attempt, max_attempts, deadline)
           VALUES ($1, 'evaluation', $2, $3, $4, $5, 'queued', 1, 3, now() + interval '1 hour')`,
          [jobs[role], cycleId, evaluationId, role, model],
        );
      }
      for (const to of ['dataset_ready', 'training', 'trained', 'evaluating'] as const) {
        await transitionCycle(
          m,
          cycleId,
          to,
          to === 'evaluating' ? { patch: { evaluation_id: evaluationId } } : {},
        );
      }
    });
    return { model, cycleId, evaluationId, versions, jobs };
  }

  /** The worker's part: the per-item results artifact (JSONL; JSON escapes keep every code unit). */
  async function resultsArtifact(evaluationId: string, jobId: string, outputs: string[]) {
    const results: EvalItemResult[] = outputs.map((output, i) => ({
      item_id: `item-${i}`,
      split: 'in_domain',
      exact: i % 2 === 0,
      functional: null,
      correct: i % 2 === 0,
      nll: 1.5,
      tokens: 3,
      bleu: 10,
      output,
    }));
    const bytes = new TextEncoder().encode(results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const key = `eval-results/${evaluationId}/${jobId}.jsonl`;
    const store = await new Objm(stack.client.js).open(ARTIFACTS_BUCKET);
    await store.putBlob({ name: key }, bytes);
    return {
      bucket: ARTIFACTS_BUCKET,
      key,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      items: results.length,
    };
  }

  function completed(
    c: Awaited<ReturnType<typeof evaluatingCycle>>,
    role: EvaluationRole,
    results: EvaluationCompletedV1['results'],
    device = 'cpu',
  ) {
    const data: EvaluationCompletedV1 = {
      job_id: c.jobs[role],
      evaluation_id: c.evaluationId,
      role,
      model_version: c.versions[role],
      base_model: 'tiny',
      suite_sha256: '0'.repeat(64),
      metrics: METRICS,
      results,
      duration_seconds: 1,
      device,
    };
    return makeEnvelope(SUBJECTS.evaluationCompleted, data, {
      source: 'trainer-worker',
      modelId: c.model,
      cycleId: c.cycleId,
    });
  }

  const cycleRow = async (id: string) =>
    (
      await stack.db.query<{ status: string; failed_phase: string | null; failure_reason: string | null }>(
        `SELECT status, failed_phase, failure_reason FROM improvement_cycles WHERE id = $1`,
        [id],
      )
    )[0]!;

  it('an evaluation whose outputs hold NUL and lone surrogates completes, and the outputs come back exactly', async () => {
    const c = await evaluatingCycle(MODEL);
    for (const role of ['candidate', 'champion'] as const) {
      const results = await resultsArtifact(c.evaluationId, c.jobs[role], OUTPUTS[role]);
      await publisher.publish(SUBJECTS.evaluationCompleted, completed(c, role, results));
    }
    await waitFor(
      'the cycle to be evaluated',
      async () => (await cycleRow(c.cycleId)).status === 'evaluated',
      {
        timeoutMs: 20_000,
      },
    );
    const rows = await stack.db.query<{
      item_id: string;
      candidate: EvalItemResult;
      champion: EvalItemResult;
    }>(
      `SELECT item_id, candidate, champion FROM evaluation_items WHERE evaluation_id = $1 ORDER BY item_id`,
      [c.evaluationId],
    );
    assert.equal(rows.length, 5);
    rows.forEach((row, i) => {
      assert.equal(fromStorableText(row.item_id), `item-${i}`);
      assert.equal(fromStorableJson(row.candidate).output, OUTPUTS.candidate[i], `candidate item ${i}`);
      assert.equal(fromStorableJson(row.champion).output, OUTPUTS.champion[i], `champion item ${i}`);
    });
    // Storable text is stored unchanged; only what Postgres refuses (or looks escaped) is escaped.
    assert.equal(rows[3]!.candidate.output, 'ok → ✓ 😀');
    assert.equal(rows[0]!.candidate.output, '[genesis:escaped-v1]def f():\n    return 1\\u0000');
    const [evaluation] = await stack.db.query<{ status: string; decision: string }>(
      `SELECT status, decision FROM evaluations WHERE id = $1`,
      [c.evaluationId],
    );
    assert.equal(evaluation!.status, 'completed');
    process.stdout.write(
      `# evaluation with NUL and lone surrogates in 10 outputs: ${evaluation!.status} (${evaluation!.decision}), 5 item rows\n`,
    );
  });

  it('a result event forced into the DLQ fails its cycle within seconds, with the phase and the reason', async () => {
    const c = await evaluatingCycle(DLQ_MODEL);
    const results = await resultsArtifact(c.evaluationId, c.jobs.candidate, ['fine']);
    // U+0000 in an envelope field: no consumer may store it, so the evaluator dead-letters it.
    const poisoned = completed(c, 'candidate', results, 'cpu\u0000');
    const started = Date.now();
    await publisher.publish(SUBJECTS.evaluationCompleted, poisoned);
    const row = await waitFor(
      'the cycle to fail',
      async () => {
        const r = await cycleRow(c.cycleId);
        return r.status === 'failed' ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `# dead-lettered evaluation.completed failed its cycle in ${seconds.toFixed(2)} s\n`,
    );
    assert.ok(seconds < 5, `took ${seconds} s`);
    assert.equal(row.failed_phase, 'evaluating');
    assert.match(
      row.failure_reason ?? '',
      /^DEAD_LETTERED: evaluation\.completed \(stream sequence \d+\) was dead-lettered by evaluator-evaluation-completed: SCHEMA_INVALID: \/data\/device contains U\+0000/,
    );
    const { event } = await stack.lastEvent<{ phase: string; reason: { code: string } }>(
      SUBJECTS.cycleFailed,
      (e) => e.cycle_id === c.cycleId,
    );
    assert.deepEqual([event.data.phase, event.data.reason.code], ['evaluating', 'DEAD_LETTERED']);
    // The model's one active slot is free again: a new cycle can open.
    const next = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: DLQ_MODEL, trigger: 'manual', reason: 'next', counts: {}, now: new Date() }),
    );
    assert.equal(next.opened, true);
  });
});
