import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalCode,
  correctionKey,
  decontaminationKey,
  normaliseText,
  type DecontaminationFields,
} from './normalise';

// The same file drives apps/trainer-worker/tests/test_normalise.py: one definition, two languages.
const file = join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'libs',
  'contracts',
  'fixtures',
  'normalisation-vectors.json',
);
const { vectors, decontamination_keys: keys } = JSON.parse(readFileSync(file, 'utf8')) as {
  vectors: {
    name: string;
    input: string;
    language: string | null;
    text: string;
    canonical: string;
    layout: string;
  }[];
  decontamination_keys: {
    name: string;
    item: DecontaminationFields;
    key: string;
    correction_key: string;
    layout_key: string;
    layout_correction_key: string;
  }[];
};

describe('the shared normalisation (test vectors)', () => {
  for (const v of vectors) {
    it(`normalises: ${v.name}`, () => {
      assert.equal(normaliseText(v.input), v.text);
      assert.equal(normaliseText(v.text), v.text, 'idempotent');
      assert.equal(canonicalCode(v.input, v.language), v.canonical);
      assert.equal(canonicalCode(v.input, v.language, 'layout'), v.layout);
    });
  }
  for (const k of keys) {
    it(`keys: ${k.name}`, () => {
      assert.equal(decontaminationKey(k.item), k.key);
      assert.equal(correctionKey(k.item), k.correction_key);
      assert.equal(decontaminationKey(k.item, 'layout'), k.layout_key);
      assert.equal(correctionKey(k.item, 'layout'), k.layout_correction_key);
    });
  }

  it('a spaced, commented, renamed variant with another model output has the held-out key; a new rule does not', () => {
    const [heldOut, variant, other] = keys;
    assert.equal(variant!.key, heldOut!.key);
    assert.notEqual(other!.key, heldOut!.key);
  });
});
