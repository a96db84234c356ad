import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  waitFor,
} from '@genesis/testing';
import { cyclesOf, thresholdEvents } from './helpers';

/**
 * The real capture path feeding the monitor: learnings posted to the gateway, stored by the
 * learner, announced as learning.stored, counted by the monitor (with a per-model threshold of 5
 * from GENESIS_TRIGGER_OVERRIDES), which opens one cycle.
 */
describe('capture path → monitor: posted learnings open a cycle', () => {
  let stack: TestStack;
  let services: ServiceProcess[] = [];

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({
      GENESIS_TRIGGER_OVERRIDES: JSON.stringify({ 'small-model': { learning_threshold: 5 } }),
    });
    services = await Promise.all(
      ['gateway', 'learner', 'monitor'].map((app) => ServiceProcess.start(app, env)),
    );
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await stack?.dispose();
  });

  it('opens exactly one cycle at the 5th accepted learning; duplicates do not count', async () => {
    const gateway = services[0]!;
    const learning = (n: number) => ({
      kind: 'correction',
      model_id: 'small-model',
      source: 'e2e',
      language: 'python',
      context: `def f${n}(x):`,
      correction: `    return x + ${n}`,
    });
    // Four distinct learnings and one exact duplicate: 4 accepted, below the threshold.
    const first = await request(gateway.baseUrl, '/api/v1/learnings/batch', {
      key: TEST_WRITER_KEY,
      json: { learnings: [1, 2, 3, 4, 4].map(learning) },
    });
    assert.equal(first.status, 202, first.text);
    const status = async () =>
      (
        await request<{ learnings_since_training: number; should_trigger: boolean; trigger_reason: string }>(
          gateway.baseUrl,
          '/api/v1/genesis/improvement/status?model_id=small-model',
          { key: TEST_ADMIN_KEY },
        )
      ).body;
    const four = await waitFor('status to count 4 accepted learnings', async () => {
      const s = await status();
      return s.learnings_since_training === 4 ? s : undefined;
    });
    assert.deepEqual(
      [four.should_trigger, four.trigger_reason],
      [false, 'Thresholds not met (learnings: 4/5, days: 0/62)'],
    );
    await waitFor('the duplicate to be stored', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM learnings WHERE source = 'e2e'`,
      );
      return n === 5;
    });
    assert.deepEqual(await cyclesOf(stack, 'small-model'), []);

    const fifth = await request(gateway.baseUrl, '/api/v1/learnings', {
      key: TEST_WRITER_KEY,
      json: learning(5),
    });
    assert.equal(fifth.status, 202, fifth.text);
    const [event] = await waitFor('threshold.reached', async () => {
      const e = await thresholdEvents(stack, 'small-model');
      return e.length > 0 ? e : undefined;
    });
    assert.equal(event!.data.reason, 'Learning threshold reached (learnings: 5/5)');
    const cycles = await cyclesOf(stack, 'small-model');
    assert.deepEqual(
      cycles.map((c) => [c.status, c.trigger]),
      [['opened', 'learnings']],
    );
  });
});
