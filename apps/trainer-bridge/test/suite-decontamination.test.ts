import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SUBJECTS } from '@genesis/contracts';
import { EventPublisher } from '@genesis/messaging';
import { EmbedderProcess, ServiceProcess, TestStack, capturedLearning, waitFor } from '@genesis/testing';

/**
 * Semantic decontamination against the shipped suites (ADR 0018): a reworded regression item and a
 * reworded HumanEval problem, posted as learnings, never enter a snapshot, and the snapshot says
 * which suite item each was near. Real embedder (all-MiniLM-L6-v2), real learner, monitor and
 * trainer-bridge; HumanEval's text comes from the pinned package through the embedder.
 */
describe(
  'trainer-bridge: learnings near a shipped suite item stay out of the snapshot',
  { timeout: 600_000 },
  () => {
    let stack: TestStack;
    let embedder: EmbedderProcess;
    const services: ServiceProcess[] = [];

    // regression-001 (`def add(a, b): return a - b` → `a + b`) with renamed parameters
    const REWORDED_REGRESSION = {
      context: 'def add(first, second):\n    return first - second',
      correction: 'def add(first, second):\n    return first + second',
    };
    // HumanEval/0 (has_close_elements) with its docstring reworded and its loop rewritten
    const REWORDED_HUMANEVAL = {
      context:
        'from typing import List\n\ndef has_close_elements(values: List[float], limit: float) -> bool:\n' +
        '    """Return True when two of the numbers are nearer to each other than the limit."""',
      correction:
        'def has_close_elements(values: List[float], limit: float) -> bool:\n' +
        '    for i, a in enumerate(values):\n        for j, b in enumerate(values):\n' +
        '            if i != j and abs(a - b) < limit:\n                return True\n    return False',
    };
    const DISTINCT = [
      ['def read_config(path):', '    with open(path) as f:\n        return json.load(f)'],
      ['SELECT name FROM users WHERE', 'id = $1 -- parameterised, never string concatenation'],
      ['fn first_word(s: &str) -> &str {', '    s.split_whitespace().next().unwrap_or("")\n}'],
      ['function sum(xs) {', '  return xs.reduce((a, b) => a + b, 0);\n}'],
    ];

    before(async () => {
      stack = await TestStack.start();
      embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
      services.push(
        await ServiceProcess.start('learner', stack.env({ GENESIS_EMBEDDING_TIMEOUT_MS: '60000' })),
      );
    });

    after(async () => {
      await Promise.all(services.map((s) => s.stop()));
      await embedder?.stop();
      await stack?.dispose();
    });

    it('leaves them out, names the suite and item, and keeps the suites’ vectors for next time', async () => {
      const publisher = new EventPublisher(stack.client);
      const capture = async (fields: { context: string; correction: string }) => {
        const event = capturedLearning(fields);
        await publisher.publish(SUBJECTS.learningCaptured, event);
        return event.data.learning_id;
      };
      const regression = await capture(REWORDED_REGRESSION);
      const humaneval = await capture(REWORDED_HUMANEVAL);
      const distinct = await Promise.all(
        DISTINCT.map(([context, correction]) => capture({ context: context!, correction: correction! })),
      );
      const all = [regression, humaneval, ...distinct];
      await waitFor(
        'every learning embedded',
        async () => {
          const [{ n }] = await stack.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM learning_vectors WHERE learning_id = ANY($1::uuid[])`,
            [all],
          );
          return n === all.length;
        },
        { timeoutMs: 240_000, intervalMs: 250 },
      );
      const accepted = await stack.db.query<{ id: string }>(
        `SELECT id FROM learnings WHERE status = 'accepted'`,
      );
      assert.deepEqual(
        accepted.map((r) => r.id).sort(),
        [...all].sort(),
        'none is a near-duplicate of another',
      );

      // Now the threshold is reached: every learning is embedded before the snapshot is built.
      const env = stack.env({ GENESIS_LEARNING_THRESHOLD: String(all.length), GENESIS_EVAL_FRACTION: '0' });
      services.push(
        ...(await Promise.all(['monitor', 'trainer-bridge'].map((app) => ServiceProcess.start(app, env)))),
      );
      const snapshot = await waitFor(
        'a snapshot',
        async () =>
          (
            await stack.db.query<{
              learning_ids: string[];
              eval_learning_ids: string[];
              semantic_exclusions: {
                excluded: { id: string; near: string; suite: string; reason: string; similarity: number }[];
                by_suite: Record<string, number>;
                suites_unchecked: Record<string, string>;
              };
            }>(`SELECT learning_ids, eval_learning_ids, semantic_exclusions FROM dataset_snapshots`)
          )[0],
        { timeoutMs: 240_000, intervalMs: 250 },
      );
      const excluded = snapshot.semantic_exclusions.excluded;
      console.log(`semantic exclusions: ${JSON.stringify(snapshot.semantic_exclusions)}`);
      assert.deepEqual(
        excluded.map((e) => [e.id, e.near, e.suite, e.reason]).sort(),
        [
          [regression, 'regression-001', 'regression.v1', 'near_regression_item'],
          [humaneval, 'HumanEval/0', 'humaneval-1.0.3', 'near_regression_item'],
        ].sort(),
      );
      for (const e of excluded) assert.ok(e.similarity >= 0.8, `${e.near}: ${e.similarity}`);
      assert.deepEqual(snapshot.semantic_exclusions.by_suite, {
        'in-domain': 0,
        'regression.v1': 1,
        'humaneval-1.0.3': 1,
      });
      assert.deepEqual(snapshot.semantic_exclusions.suites_unchecked, {});
      const inSnapshot = [...snapshot.learning_ids, ...snapshot.eval_learning_ids];
      assert.ok(
        !inSnapshot.includes(regression) && !inSnapshot.includes(humaneval),
        'a contaminated learning is in',
      );
      assert.deepEqual([...snapshot.learning_ids].sort(), [...distinct].sort());
      // The frozen suites are embedded once per model and kept: 20 regression items, 164 HumanEval.
      const kept = await stack.db.query<{ suite: string; n: number; model: string }>(
        `SELECT suite, count(*)::int AS n, embedding_model AS model FROM suite_item_vectors GROUP BY 1, 3 ORDER BY 1`,
      );
      assert.deepEqual(kept, [
        { suite: 'humaneval-1.0.3', n: 164, model: 'all-MiniLM-L6-v2' },
        { suite: 'regression.v1', n: 20, model: 'all-MiniLM-L6-v2' },
      ]);
    });
  },
);
