import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMS } from '@genesis/contracts';
import { openCycle } from '@genesis/cycles';
import { ServiceProcess, TEST_ADMIN_KEY, TestStack, request, waitFor } from '@genesis/testing';
import { cyclesOf, finishCycle, metricValue, runMonitorOnce, storeLearnings } from './helpers';

const HOUR_MS = 3600_000;

/**
 * No cycle without new evidence worth a cycle (ADR 0014), with the default policy: a champion
 * under the performance threshold, a rejected cycle, then learnings trickling in one by one.
 */
describe('monitor: new evidence and back-off after rejections (defaults)', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let monitor: ServiceProcess;
  let handled = 0;

  const status = async (model: string) =>
    (
      await request<Record<string, unknown>>(
        gateway.baseUrl,
        `/api/v1/genesis/improvement/status?model_id=${model}`,
        { key: TEST_ADMIN_KEY },
      )
    ).body;

  /** A champion under the 0.90 threshold, then a rejected performance cycle that ended at `rejectedAt`. */
  async function rejectedAfterDeployment(model: string, rejectedAt: Date): Promise<string> {
    const deployedAt = new Date(rejectedAt.getTime() - HOUR_MS);
    const seed = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: model, trigger: 'manual', reason: 'seed', counts: {}, now: deployedAt }),
    );
    assert.ok(seed.opened);
    await finishCycle(stack, seed.cycle.id, 'deployed', {
      modelVersion: `${model}-v1`,
      score: 0.8,
      at: deployedAt,
    });
    const retry = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: model, trigger: 'performance', reason: 'seed', counts: {}, now: rejectedAt }),
    );
    assert.ok(retry.opened);
    await finishCycle(stack, retry.cycle.id, 'rejected', { at: rejectedAt });
    return retry.cycle.id;
  }

  /** One learning for each model, and the monitor's check of each done. */
  async function trickle(models: string[]): Promise<void> {
    for (const model of models) await storeLearnings(stack, model, 1);
    handled += models.length;
    await waitFor(
      'the monitor to handle the learning.stored',
      async () => {
        const info = await stack.client.jsm.consumers.info(STREAMS.events, 'monitor-learning-stored');
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.consumer_seq >= handled;
      },
      { intervalMs: 20 },
    );
  }

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env();
    [gateway, monitor] = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('monitor', env),
    ]);
  });

  after(async () => {
    await Promise.all([gateway?.stop(), monitor?.stop()]);
    await stack?.dispose();
  });

  it('a champion under the performance threshold right after its deployment opens nothing without new evidence', async () => {
    const model = 'fresh-champion';
    const seed = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: model, trigger: 'manual', reason: 'seed', counts: {}, now: new Date() }),
    );
    assert.ok(seed.opened);
    await finishCycle(stack, seed.cycle.id, 'deployed', { modelVersion: 'fresh-v1', score: 0.8 });
    const run = await runMonitorOnce(stack.env({ GENESIS_MONITOR_MODELS: model }));
    assert.equal(run.code, 0, run.stderr);
    const line = run.stdout.split('\n').find((l) => l.startsWith(`${model}: `)) ?? '';
    assert.match(
      line,
      new RegExp(
        `^${model}: WAITING_EVIDENCE: Performance threshold reached \\(accuracy: 0\\.800/0\\.9 offline is below the threshold\\); ` +
          `waiting for new evidence: 0/20 new learnings or feedback outcomes since cycle ${seed.cycle.id} ended \\(deployed\\)`,
      ),
    );
    assert.deepEqual(
      (await cyclesOf(stack, model)).map((c) => c.status),
      ['deployed'],
    );
  });

  it('after a rejection, 50 learnings trickled in one by one open at most one cycle; the status says why it waits', async () => {
    // `evidence`: rejected 2 h ago, the 1 h back-off is over: it waits for 20 new learnings.
    // `backoff`: rejected just now: it waits out the back-off whatever arrives.
    const evidence = 'trickle-evidence';
    const backoff = 'trickle-backoff';
    const rejectedEvidence = await rejectedAfterDeployment(evidence, new Date(Date.now() - 2 * HOUR_MS));
    const rejectedBackoff = await rejectedAfterDeployment(backoff, new Date());
    const before = {
      [evidence]: (await cyclesOf(stack, evidence)).length,
      [backoff]: (await cyclesOf(stack, backoff)).length,
    };

    let waitingStatus: Record<string, unknown> | undefined;
    let waitingMetrics = '';
    for (let i = 1; i <= 50; i++) {
      await trickle([evidence, backoff]);
      if (i === 19) {
        waitingStatus = await status(evidence);
        waitingMetrics = (await request(monitor.baseUrl, '/metrics')).text;
      }
    }

    const opened = {
      [evidence]: (await cyclesOf(stack, evidence)).slice(before[evidence]),
      [backoff]: (await cyclesOf(stack, backoff)).slice(before[backoff]),
    };
    process.stdout.write(
      `# 50 learnings trickled after a rejection: ${opened[evidence].length} cycle(s) opened (back-off over), ` +
        `${opened[backoff].length} (backing off)\n`,
    );
    assert.equal(opened[evidence].length, 1, 'exactly one cycle: at the 20th new learning');
    assert.equal(opened[backoff].length, 0, 'none while backing off');

    // While it waited (19 learnings in), the status said why, in the spec's fields.
    assert.equal(waitingStatus!['should_trigger'], false);
    assert.equal(waitingStatus!['learnings_since_training'], 19);
    assert.match(
      String(waitingStatus!['trigger_reason']),
      new RegExp(
        `^Performance threshold reached \\(accuracy: 0\\.800/0\\.9 offline is below the threshold\\); waiting for new evidence: ` +
          `19/20 new learnings or feedback outcomes since cycle ${rejectedEvidence} ended \\(rejected\\) at .* \\(19 learnings, 0 feedback\\)$`,
      ),
    );
    assert.equal(
      metricValue(waitingMetrics, 'genesis_trigger_waiting', { model_id: evidence, reason: 'evidence' }),
      1,
    );
    assert.equal(metricValue(waitingMetrics, 'genesis_new_evidence', { model_id: evidence }), 19);
    assert.equal(metricValue(waitingMetrics, 'genesis_min_new_evidence', { model_id: evidence }), 20);

    // The opened cycle records the evidence it started with.
    const [cycle] = await stack.db.query<{ trigger: string; counts: Record<string, unknown> }>(
      `SELECT trigger, counts FROM improvement_cycles WHERE id = $1`,
      [opened[evidence][0]!.id],
    );
    assert.equal(cycle!.trigger, 'performance');
    assert.deepEqual(
      [
        cycle!.counts['new_learnings'],
        cycle!.counts['new_feedback'],
        cycle!.counts['min_new_evidence'],
        cycle!.counts['consecutive_rejections'],
      ],
      [20, 0, 20, 1],
    );

    const held = await status(backoff);
    assert.equal(held['should_trigger'], false);
    assert.match(
      String(held['trigger_reason']),
      new RegExp(
        `; backing off after 1 consecutive rejected cycle\\(s\\) until \\S+ \\(1 h after cycle ${rejectedBackoff} was rejected\\)$`,
      ),
    );
    const metrics = (await request(monitor.baseUrl, '/metrics')).text;
    assert.equal(
      metricValue(metrics, 'genesis_trigger_waiting', { model_id: backoff, reason: 'backoff' }),
      1,
    );
    const left = metricValue(metrics, 'genesis_trigger_backoff_seconds', { model_id: backoff })!;
    assert.ok(left > 3000 && left <= 3600, `back-off seconds left: ${left}`);
    assert.equal(metricValue(metrics, 'genesis_consecutive_rejections', { model_id: backoff }), 1);
  });
});
