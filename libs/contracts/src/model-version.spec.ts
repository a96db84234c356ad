import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_VERSION_PATTERN, modelVersionName, validateEnvelope } from './index';

const fixtures = join(__dirname, '..', '..', '..', '..', 'libs', 'contracts', 'fixtures');
const at = new Date('2026-11-21T19:00:05Z');

describe('model version names', () => {
  it('carry their model, and the default model keeps its genesis-… names', () => {
    assert.equal(modelVersionName('realrepo', at), 'realrepo-20261121-190005');
    assert.equal(modelVersionName('genesis', at), 'genesis-20261121-190005');
    assert.equal(modelVersionName('my_model.v2', at, 1), 'my_model.v2-20261121-190005-2');
  });

  it('match the one pattern, which still accepts names from before the model prefix', () => {
    for (const ok of ['realrepo-20261121-190005', 'genesis-20261121-190005-3', 'a-20000101-000000'])
      assert.match(ok, MODEL_VERSION_PATTERN);
    for (const bad of ['realrepo', '-20261121-190005', 'Realrepo-20261121-190005', 'x-2026112-190005'])
      assert.doesNotMatch(bad, MODEL_VERSION_PATTERN);
  });

  it('validate in the events that carry them', () => {
    const envelope = JSON.parse(readFileSync(join(fixtures, 'model.trained.valid.json'), 'utf8'));
    envelope.model_id = 'realrepo';
    envelope.data.model_version = 'realrepo-20261121-190005';
    assert.equal(validateEnvelope(envelope).ok, true);
    envelope.data.model_version = 'realrepo 20261121';
    assert.equal(validateEnvelope(envelope).ok, false);
  });
});
