import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { durableName, validateEnvelope, validateLearningInput } from './index';

// Golden fixtures are shared with the Python worker's tests: both languages must agree on them.
const fixtures = join(__dirname, '..', '..', '..', '..', 'libs', 'contracts', 'fixtures');

describe('contracts', () => {
  for (const file of readdirSync(fixtures).filter((f) => f.endsWith('.valid.json'))) {
    it(`accepts the golden fixture ${file}`, () => {
      const result = validateEnvelope(JSON.parse(readFileSync(join(fixtures, file), 'utf8')));
      assert.equal(result.ok, true, JSON.stringify(result));
    });
  }

  const invalid = JSON.parse(readFileSync(join(fixtures, 'invalid.json'), 'utf8')) as {
    why: string;
    envelope: unknown;
  }[];
  for (const { why, envelope } of invalid) {
    it(`rejects an envelope with ${why}`, () => {
      assert.equal(validateEnvelope(envelope).ok, false);
    });
  }

  it('fills the default model id and names the offending field', () => {
    const input: Record<string, unknown> = { kind: 'correction', source: 'cli', correction: 'x' };
    assert.equal(validateLearningInput(input).ok, true);
    assert.equal(input['model_id'], 'genesis');
    const bad = validateLearningInput(
      { kind: 'opinion', source: 'cli', correction: 'x', extra: 1 },
      '/learnings/3',
    );
    assert.equal(bad.ok, false);
    const text = JSON.stringify(bad);
    assert.match(text, /\/learnings\/3\/kind/);
    assert.match(text, /extra/);
  });

  it('names durable consumers <app>-<subject-with-dashes>', () => {
    assert.equal(durableName('learner', 'learning.captured'), 'learner-learning-captured');
  });
});
