import { randomUUID } from 'node:crypto';
import { SUBJECTS, makeEnvelope, type LearningCapturedV1 } from '@genesis/contracts';

/**
 * A learning.captured envelope as a producer on the bus would publish it: a fresh learning id, model
 * `genesis`, kind `correction`; `data` overrides any field (also with values the schema refuses).
 */
export function capturedLearning(data: Partial<LearningCapturedV1> & Record<string, unknown> = {}) {
  const learning: LearningCapturedV1 = {
    learning_id: randomUUID(),
    kind: 'correction',
    model_id: 'genesis',
    source: 'test',
    correction: 'x = 1',
    received_at: new Date().toISOString(),
    ...data,
  };
  return makeEnvelope(SUBJECTS.learningCaptured, learning, { source: 'test', modelId: 'genesis' });
}
