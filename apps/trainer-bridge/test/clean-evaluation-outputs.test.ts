import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import {
  SUBJECTS,
  fromStorableJson,
  makeEnvelope,
  type EvalItemResult,
  type EvaluationCompletedV1,
  type EvaluationMetrics,
  type EvaluationRole,
  type LearningRescannedV1,
} from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import { ARTIFACTS_BUCKET, EventPublisher } from '@genesis/messaging';
import { ServiceProcess, TestStack, waitFor } from '@genesis/testing';

const MODEL = 'outputs-model';
const EXTRA_RULES = JSON.stringify([{ id: 'acme-token', pattern: 'ACME-[A-Z0-9]{24}' }]);
const upper = (n: number) =>
  Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');
/** A made-up vendor's credential: only the extra rule knows it. */
const ACME = `ACME-${upper(24)}`;
/** A format the maintained rules know (GitHub personal access token), split so no scanner flags this file. */
const GITHUB = ['gh', 'p_', upper(36)].join('');
/** The correction of the learning that will be forgotten, which the candidate reproduced. */
const FORGET_TEXT = `return sorted(set(xs)) # forgotten-${upper(12)}`;

const METRICS: EvaluationMetrics = {
  accuracy: 0.5,
  exact_match: 0.5,
  functional_pass_rate: null,
  perplexity: 1.5,
  bleu: 10,
  success_rate: null,
  items: 3,
  in_domain_items: 2,
  regression_items: 1,
  functional_items: 0,
};

/**
 * A rescan and a forget also clean the model outputs an evaluation keeps (ADR 0017): the per-item rows in
 * Postgres and the worker's results objects in the JetStream Object Store. Real evaluator (it stores the
 * items), real trainer-bridge (it runs the job's last step), real Postgres and NATS; the learner's part
 * of the job (rows scanned, `learning.rescanned`) and the worker's results are played by the test.
 */
describe('trainer-bridge: a rescan or forget cleans the outputs evaluations keep', () => {
  let stack: TestStack;
  let evaluator: ServiceProcess;
  let bridge: ServiceProcess;
  let publisher: EventPublisher;
  const learnings = { forgotten: randomUUID(), kept: randomUUID() };
  let evaluationId: string;
  let cycleId: string;
  const jobs = { candidate: randomUUID(), champion: randomUUID() };
  const firstKeys: Record<EvaluationRole, string> = { candidate: '', champion: '' };

  before(async () => {
    stack = await TestStack.start();
    [evaluator, bridge] = await Promise.all([
      ServiceProcess.start('evaluator', stack.env()),
      ServiceProcess.start('trainer-bridge', stack.env({ GENESIS_SECRET_EXTRA_RULES: EXTRA_RULES })),
    ]);
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await Promise.all([evaluator?.stop(), bridge?.stop()]);
    await stack?.dispose();
  });

  const items = async () =>
    stack.db.query<{ item_id: string; candidate: EvalItemResult; champion: EvalItemResult }>(
      `SELECT item_id, candidate, champion FROM evaluation_items WHERE evaluation_id = $1 ORDER BY item_id`,
      [evaluationId],
    );

  const resultsRefs = async () =>
    Object.fromEntries(
      (
        await stack.db.query<{ role: EvaluationRole; results: { key: string; sha256: string } }>(
          `SELECT role, results FROM evaluation_jobs WHERE evaluation_id = $1`,
          [evaluationId],
        )
      ).map((r) => [r.role, r.results]),
    ) as Record<EvaluationRole, { key: string; sha256: string }>;

  async function everyObject(): Promise<Map<string, string>> {
    const store = await new Objm(stack.client.js).open(ARTIFACTS_BUCKET);
    const out = new Map<string, string>();
    for (const info of await store.list()) {
      const bytes = await store.getBlob(info.name);
      if (bytes) out.set(info.name, new TextDecoder().decode(bytes));
    }
    return out;
  }

  /** The learner's part of a job: the row in `purging`, its changes, learning.rescanned. */
  async function runJob(kind: 'rescan' | 'forget', forgotten: string[] = []) {
    const id = randomUUID();
    await stack.db.query(
      `INSERT INTO learning_rescans (id, kind, learning_ids, reason, requested_by, status, rule_set, total, scanned)
       VALUES ($1, $2, $3::uuid[], 'test', 'test', 'purging', 'test-rules', 2, 2)`,
      [id, kind, kind === 'forget' ? forgotten : null],
    );
    for (const learning of forgotten) {
      await stack.db.query(
        `INSERT INTO learning_rescan_changes (rescan_id, learning_id, action) VALUES ($1, $2, 'forgotten')`,
        [id, learning],
      );
    }
    const data: LearningRescannedV1 = { rescan_id: id, kind, scanned: 2, changed: forgotten.length };
    await publisher.publish(
      SUBJECTS.learningRescanned,
      makeEnvelope(SUBJECTS.learningRescanned, data, { source: 'learner', modelId: MODEL }),
    );
    return waitFor(
      `the ${kind} job to complete`,
      async () => {
        const [row] = await stack.db.query<{ status: string; evaluation_outputs_cleaned: number }>(
          `SELECT status, evaluation_outputs_cleaned FROM learning_rescans WHERE id = $1`,
          [id],
        );
        return row?.status === 'completed' ? row : undefined;
      },
      { timeoutMs: 30_000 },
    );
  }

  it('stores an evaluation whose outputs quote secrets and a learning (the starting point)', async () => {
    await stack.db.query(
      `INSERT INTO learnings (id, model_id, kind, source, correction, content_hash, status, event_id, captured_at, stored_at)
       SELECT id, $2, 'correction', 'outputs-test', 'fix ' || id, encode(sha256(id::text::bytea), 'hex'), 'accepted',
              gen_random_uuid(), now(), now()
       FROM unnest($1::uuid[]) AS id`,
      [[learnings.forgotten, learnings.kept], MODEL],
    );
    cycleId = await stack.db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: MODEL,
        trigger: 'manual',
        reason: 'test',
        counts: {},
        now: new Date(),
      });
      assert.ok(opened.opened);
      return opened.cycle.id;
    });
    evaluationId = randomUUID();
    const versions = { candidate: `cand-${cycleId.slice(0, 8)}`, champion: `champ-${cycleId.slice(0, 8)}` };
    await stack.db.dataSource.transaction(async (m) => {
      for (const version of Object.values(versions)) {
        await m.query(
          `INSERT INTO model_versions (version, model_id, base_model, status, artifact) VALUES ($1, $2, 'tiny', 'candidate', '{}')`,
          [version, MODEL],
        );
      }
      await m.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, champion_version, base_model, suite, status)
         VALUES ($1, $2, $3, $4, $5, 'tiny', $6, 'running')`,
        [
          evaluationId,
          cycleId,
          MODEL,
          versions.candidate,
          versions.champion,
          JSON.stringify({
            bucket: ARTIFACTS_BUCKET,
            key: 'eval-suites/x.jsonl',
            sha256: '0'.repeat(64),
            items: 3,
          }),
        ],
      );
      for (const role of ['candidate', 'champion'] as const) {
        await m.query(
          `INSERT INTO evaluation_jobs (job_id, evaluation_id, role, attempt, status) VALUES ($1, $2, $3, 1, 'queued')`,
          [jobs[role], evaluationId, role],
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

    const outputs: Record<EvaluationRole, [string, EvalItemResult['split'], string, string?][]> = {
      candidate: [
        [learnings.forgotten, 'in_domain', FORGET_TEXT],
        [
          learnings.kept,
          'in_domain',
          `the vendor answered ${ACME} twice`,
          `Traceback: push with ${GITHUB} failed`,
        ],
        ['regression-0', 'regression', 'print(1)'],
      ],
      champion: [
        [learnings.forgotten, 'in_domain', 'pass'],
        [learnings.kept, 'in_domain', 'fine'],
        // NUL: stored in the escaped form (ADR 0014), which must survive the cleaning.
        ['regression-0', 'regression', `x = 1\u0000 # ${ACME}`],
      ],
    };
    const store = await new Objm(stack.client.js).open(ARTIFACTS_BUCKET);
    for (const role of ['candidate', 'champion'] as const) {
      const results: EvalItemResult[] = outputs[role].map(([item_id, split, output, stderr], i) => ({
        item_id,
        split,
        exact: i === 0,
        functional: null,
        correct: i === 0,
        nll: 1.5,
        tokens: 3,
        bleu: 10,
        output,
        ...(stderr ? { sandbox: { outcome: 'error', stderr_tail: stderr } } : {}),
      }));
      const bytes = new TextEncoder().encode(results.map((r) => JSON.stringify(r)).join('\n') + '\n');
      firstKeys[role] = `eval-results/${jobs[role]}.jsonl`;
      await store.putBlob({ name: firstKeys[role] }, bytes);
      const data: EvaluationCompletedV1 = {
        job_id: jobs[role],
        evaluation_id: evaluationId,
        role,
        model_version: versions[role],
        base_model: 'tiny',
        suite_sha256: '0'.repeat(64),
        metrics: METRICS,
        results: {
          bucket: ARTIFACTS_BUCKET,
          key: firstKeys[role],
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
          modelId: MODEL,
          cycleId,
        }),
      );
    }
    await waitFor('the evaluation to be decided', async () => (await items()).length === 3, {
      timeoutMs: 20_000,
    });
    const stored = JSON.stringify(await items());
    for (const text of [ACME, GITHUB, FORGET_TEXT])
      assert.ok(stored.includes(text), 'the outputs as generated');
  });

  it('a rescan redacts what the current rules catch in every per-item row and results object', async () => {
    const job = await runJob('rescan');
    assert.equal(job.evaluation_outputs_cleaned, 2, 'two items held a secret');
    const rows = await items();
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(ACME) && !text.includes(GITHUB), 'no secret left in evaluation_items');
    const kept = rows.find((r) => r.item_id === learnings.kept)!;
    assert.equal(fromStorableJson(kept.candidate).output, 'the vendor answered [REDACTED:acme-token] twice');
    assert.match(
      fromStorableJson(kept.candidate).sandbox!.stderr_tail!,
      /^Traceback: push with \[REDACTED:[a-z0-9+-]+\] failed$/,
    );
    const regression = fromStorableJson(rows.find((r) => r.item_id === 'regression-0')!.champion);
    assert.equal(regression.output, 'x = 1\u0000 # [REDACTED:acme-token]', 'NUL kept, secret gone');
    assert.ok(text.includes(FORGET_TEXT), 'a rescan forgets nothing');

    const refs = await resultsRefs();
    const objects = await everyObject();
    for (const role of ['candidate', 'champion'] as const) {
      assert.notEqual(refs[role].key, firstKeys[role], `${role}: a new results object`);
      assert.ok(!objects.has(firstKeys[role]), `${role}: the old object is purged`);
      const body = objects.get(refs[role].key)!;
      assert.equal(createHash('sha256').update(body).digest('hex'), refs[role].sha256);
    }
    const all = [...objects.values()].join('\n');
    assert.ok(!all.includes(ACME) && !all.includes(GITHUB), 'no secret in any object in the store');

    // Again: nothing left to clean, nothing rewritten.
    const again = await runJob('rescan');
    assert.equal(again.evaluation_outputs_cleaned, 0);
    assert.deepEqual(await resultsRefs(), refs);
  });

  it('a forget replaces the outputs on items derived from the forgotten learning, in rows and objects', async () => {
    await stack.db.query(
      `UPDATE learnings SET status = 'forgotten', correction = NULL, source = '[forgotten]' WHERE id = $1`,
      [learnings.forgotten],
    );
    const before = await items();
    const job = await runJob('forget', [learnings.forgotten]);
    assert.equal(job.evaluation_outputs_cleaned, 1);
    const rows = await items();
    const forgotten = rows.find((r) => r.item_id === learnings.forgotten)!;
    assert.equal(forgotten.candidate.output, '[forgotten]');
    assert.equal(forgotten.champion.output, '[forgotten]');
    assert.equal(forgotten.candidate.correct, true, 'the evidence the gate counted stays');
    assert.deepEqual(
      rows.filter((r) => r.item_id !== learnings.forgotten),
      before.filter((r) => r.item_id !== learnings.forgotten),
      'other items are left alone',
    );
    const all = [...(await everyObject()).values()].join('\n');
    assert.ok(!all.includes(FORGET_TEXT), 'the forgotten text is in no object in the store');
    assert.ok(!JSON.stringify(rows).includes(FORGET_TEXT), 'nor in any evaluation item');
  });
});
