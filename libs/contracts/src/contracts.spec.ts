import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  durableName,
  findUnstorableText,
  makeEnvelope,
  validateEnvelope,
  validateLearningInput,
} from './index';

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

  it('finds text Postgres cannot store: U+0000 and unpaired surrogates, in values and keys', () => {
    assert.equal(findUnstorableText({ a: ['ok', 'größer → ✓ 😀', { b: null, c: 1 }] }), undefined);
    assert.equal(findUnstorableText('\ud83d\ude00'), undefined, 'a surrogate pair is one character');
    assert.deepEqual(findUnstorableText({ a: ['x', 'y\u0000'] }), {
      path: '/a/1',
      message: 'contains U+0000 (NUL), which text cannot store',
    });
    for (const lone of ['\ud800', 'a\ud83dz', '\ude00b', 'x\udfff\ud800']) {
      assert.match(
        findUnstorableText({ t: lone })?.message ?? '',
        /unpaired UTF-16 surrogate/,
        JSON.stringify(lone),
      );
    }
    assert.deepEqual(findUnstorableText({ m: { 'k/\u0000': 'v' } }), {
      path: '/m/k~1\\u0000',
      message: 'key contains U+0000 (NUL), which text cannot store',
    });
  });

  it('rejects an envelope whose data holds text that cannot be stored', () => {
    const envelope = (data: Record<string, unknown>) =>
      makeEnvelope(
        'learning.captured',
        {
          learning_id: '01a2017e-e89d-7331-a0dd-98b21f33a719',
          kind: 'correction',
          model_id: 'genesis',
          source: 'bus',
          correction: 'x = 1',
          received_at: new Date().toISOString(),
          ...data,
        },
        { source: 'test', modelId: 'genesis' },
      );
    assert.equal(validateEnvelope(envelope({})).ok, true);
    const nul = validateEnvelope(envelope({ correction: 'x\u0000' }));
    assert.equal(nul.ok, false);
    assert.match(JSON.stringify(nul), /\/data\/correction.*U\+0000/);
    const key = validateEnvelope(envelope({ metadata: { '\udc00': 'v' } }));
    assert.equal(key.ok, false);
    assert.match(JSON.stringify(key), /\/data\/metadata.*surrogate/);
  });

  it('names durable consumers <app>-<subject-with-dashes>', () => {
    assert.equal(durableName('learner', 'learning.captured'), 'learner-learning-captured');
  });
});
