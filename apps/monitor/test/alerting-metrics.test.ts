import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { STREAMS, SUBJECTS, dlqSubject, durableName } from '@genesis/contracts';
import { TRIGGER_KINDS, openCycle, transitionCycle } from '@genesis/cycles';
import { CONSUMER_CONFIGS } from '@genesis/messaging';
import { ServiceProcess, TestStack, request, waitFor } from '@genesis/testing';
import { metricValue } from './helpers';

const MODEL = 'alerting-model';
const OTHER = 'override-model';

/**
 * The monitor's gauges that the alert rules compare (deploy/prometheus/rules): thresholds per
 * model, phase deadlines, the running cycle's time in its phase, and the DLQ depth per consumer,
 * all read at scrape time from Postgres and JetStream.
 */
describe('monitor: the metrics behind the alerts', () => {
  let stack: TestStack;
  let monitor: ServiceProcess;
  const scrape = async () => (await request(monitor.baseUrl, '/metrics')).text;

  before(async () => {
    stack = await TestStack.start();
    monitor = await ServiceProcess.start(
      'monitor',
      stack.env({
        GENESIS_MONITOR_MODELS: `${MODEL},${OTHER}`,
        GENESIS_LEARNING_THRESHOLD: '7',
        GENESIS_TRIGGER_OVERRIDES: JSON.stringify({
          [OTHER]: { learning_threshold: 50, performance_threshold: 0.8 },
        }),
        GENESIS_CYCLE_PHASE_DEADLINES: JSON.stringify({ training: 120 }),
      }),
    );
  });

  after(async () => {
    await monitor?.stop();
    await stack?.dispose();
  });

  it('exports the thresholds per model (overrides included) and the phase deadlines', async () => {
    const text = await scrape();
    assert.equal(metricValue(text, 'genesis_learning_threshold', { model_id: MODEL }), 7);
    assert.equal(metricValue(text, 'genesis_learning_threshold', { model_id: OTHER }), 50);
    assert.equal(metricValue(text, 'genesis_performance_threshold', { model_id: MODEL }), 0.9);
    assert.equal(metricValue(text, 'genesis_performance_threshold', { model_id: OTHER }), 0.8);
    assert.equal(metricValue(text, 'genesis_cycle_phase_deadline_seconds', { status: 'training' }), 7200);
    assert.equal(metricValue(text, 'genesis_cycle_phase_deadline_seconds', { status: 'opened' }), 3600);
    // From 0 before any cycle failed, so the first failure is an increase the alert sees.
    assert.equal(metricValue(text, 'genesis_improvement_cycles_failed_total', { model_id: MODEL }), 0);
    // The spec's counters too, every trigger of every known model, before the first cycle opens.
    for (const model of [MODEL, OTHER]) {
      for (const trigger of TRIGGER_KINDS)
        assert.equal(
          metricValue(text, 'genesis_improvement_cycles_total', { model_id: model, trigger }),
          0,
          `${model} ${trigger}`,
        );
      assert.equal(metricValue(text, 'genesis_improvements_deployed_total', { model_id: model }), 0);
      assert.equal(metricValue(text, 'genesis_improvements_rejected_total', { model_id: model }), 0);
    }
  });

  it('counts dead letters per consumer, every provisioned consumer from 0', async () => {
    const before = await scrape();
    for (const { config } of CONSUMER_CONFIGS) {
      assert.equal(
        metricValue(before, 'genesis_dlq_messages', { consumer: config.durable_name }),
        0,
        config.durable_name,
      );
    }
    const consumer = durableName('evaluator', SUBJECTS.modelTrained);
    await stack.client.js.publish(dlqSubject(consumer), '{"bad":1}');
    await stack.client.js.publish(dlqSubject(consumer), '{"bad":2}');
    // A capture's dead letters have their own stream (ADR 0019); the labels say where to look.
    const learner = durableName('learner', SUBJECTS.learningCaptured);
    await stack.client.js.publish(dlqSubject(learner, STREAMS.captures), '{"bad":3}');
    const after = await scrape();
    assert.equal(
      metricValue(after, 'genesis_dlq_messages', {
        consumer,
        stream: STREAMS.dlq,
        subject: `dlq.${consumer}`,
      }),
      2,
    );
    assert.equal(
      metricValue(after, 'genesis_dlq_messages', {
        consumer: learner,
        stream: STREAMS.captureDlq,
        subject: `dlq.capture.${learner}`,
      }),
      1,
    );
    assert.equal(
      metricValue(after, 'genesis_dlq_messages', {
        consumer: durableName('deployer', SUBJECTS.modelEvaluated),
      }),
      0,
    );
    await stack.client.jsm.streams.purge(STREAMS.captureDlq);
  });

  it('names the cycle of a dead letter (genesis_dlq_cycle_messages), and drops it once purged', async () => {
    const cycleId = randomUUID();
    const consumer = durableName('evaluator', SUBJECTS.modelTrained);
    const letter = (n: number) =>
      JSON.stringify({
        id: randomUUID(),
        type: SUBJECTS.modelTrained,
        model_id: MODEL,
        cycle_id: cycleId,
        n,
      });
    await stack.client.js.publish(dlqSubject(consumer), letter(1));
    await stack.client.js.publish(dlqSubject(consumer), letter(2));
    await stack.client.js.publish(dlqSubject(consumer), '{not json');
    // A capture-path letter is never read one by one, even if it looks like it has a cycle.
    const learner = durableName('learner', SUBJECTS.learningCaptured);
    await stack.client.js.publish(dlqSubject(learner, STREAMS.captures), letter(3));

    const text = await scrape();
    assert.equal(
      metricValue(text, 'genesis_dlq_cycle_messages', { consumer, model_id: MODEL, cycle_id: cycleId }),
      2,
    );
    assert.equal(metricValue(text, 'genesis_dlq_cycle_messages', { consumer: learner }), undefined);

    await stack.client.jsm.streams.purge(STREAMS.dlq, { filter: dlqSubject(consumer) });
    await waitFor('the purged cycle to leave the metric', async () =>
      metricValue(await scrape(), 'genesis_dlq_cycle_messages', { cycle_id: cycleId }) === undefined
        ? true
        : undefined,
    );
  });

  it("exports the running cycle's time in its phase, and drops it when the cycle ends", async () => {
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    const opened = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: MODEL, trigger: 'manual', reason: 'test', counts: {}, now: tenMinutesAgo }),
    );
    assert.ok(opened.opened);
    const age = await waitFor('the cycle age', async () =>
      metricValue(await scrape(), 'genesis_active_cycle_age_seconds', { model_id: MODEL, status: 'opened' }),
    );
    assert.ok(age >= 600 && age < 700, `age ${age}`);

    await stack.db.dataSource.transaction((m) =>
      transitionCycle(m, opened.cycle.id, 'failed', { failure: { code: 'TEST', message: 'test' } }),
    );
    const text = await waitFor('the failed cycle to be counted', async () => {
      const t = await scrape();
      return metricValue(t, 'genesis_improvement_cycles_failed_total', { model_id: MODEL }) === 1 && t;
    });
    assert.equal(metricValue(text, 'genesis_active_cycle_age_seconds', { model_id: MODEL }), undefined);
  });
});
