import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMS, dlqConsumerOf, dlqSubject, durableName, streamOf } from './subjects';

describe('dead-letter subjects (ADR 0019)', () => {
  const learner = durableName('learner', 'learning.captured');
  const evaluator = durableName('evaluator', 'model.trained');

  it("sends a raw capture's dead letters to GENESIS_CAPTURE_DLQ and every other one to GENESIS_DLQ", () => {
    assert.equal(dlqSubject(learner, STREAMS.captures), `dlq.capture.${learner}`);
    assert.equal(streamOf(dlqSubject(learner, STREAMS.captures)), STREAMS.captureDlq);
    for (const stream of [STREAMS.events, STREAMS.jobs, undefined]) {
      assert.equal(dlqSubject(evaluator, stream), `dlq.${evaluator}`);
      assert.equal(streamOf(dlqSubject(evaluator, stream)), STREAMS.dlq);
    }
  });

  it('reads the consumer back from either form', () => {
    assert.equal(dlqConsumerOf(`dlq.capture.${learner}`), learner);
    assert.equal(dlqConsumerOf(`dlq.${evaluator}`), evaluator);
  });
});
