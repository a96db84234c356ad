import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { learningContentHash, normaliseForHash, type HashableLearning } from './content-hash';

const base: HashableLearning = {
  model_id: 'coder-7b@2025-01',
  kind: 'bugfix',
  language: 'python',
  context: 'def area(r):\n\treturn 3.14 * r * r',
  model_output: 'return math.pi * r ** 2',
  correction: 'import math\n\ndef area(r):\n\treturn math.pi * r ** 2',
};
const hash = (overrides: Partial<HashableLearning>) => learningContentHash({ ...base, ...overrides });

describe('normaliseForHash', () => {
  it('converts CRLF and CR to LF', () => {
    assert.equal(normaliseForHash('a\r\nb\rc\nd'), 'a\nb\nc\nd');
  });

  it('strips trailing whitespace on every line but keeps tabs and inner whitespace', () => {
    assert.equal(
      normaliseForHash('def f():  \n\tif x:  \t\n\t\treturn  y \u00a0\nz'),
      'def f():\n\tif x:\n\t\treturn  y\nz',
    );
  });

  it('trims leading and trailing blank lines and whitespace', () => {
    assert.equal(normaliseForHash('\n \n  x = 1\n\n  y = 2\n\n \t\n'), 'x = 1\n\n  y = 2');
    assert.equal(normaliseForHash(' \r\n\t '), '');
  });

  it('applies Unicode NFC', () => {
    assert.equal(normaliseForHash('cafe\u0301'), 'caf\u00e9');
  });

  it('is idempotent', () => {
    for (const s of ['a \r\n\r\n b\t\r', '\uFEFF x\u2028y ', 'cafe\u0301\n\n', '']) {
      assert.equal(normaliseForHash(normaliseForHash(s)), normaliseForHash(s));
    }
  });
});

describe('learningContentHash', () => {
  it('is a sha256 hex digest and deterministic', () => {
    assert.match(hash({}), /^[0-9a-f]{64}$/);
    assert.equal(hash({}), learningContentHash({ ...base }));
  });

  it('ignores line endings, trailing whitespace, surrounding blank lines and Unicode normal form', () => {
    const crlf = (s: string) => s.replace(/\n/g, ' \r\n');
    assert.equal(
      hash({
        context: `\n${crlf(base.context!)}\n\n`,
        model_output: `${base.model_output}\t \r\n`,
        correction: crlf(base.correction),
      }),
      hash({}),
    );
    assert.equal(hash({ correction: 'x = "cafe\u0301"' }), hash({ correction: 'x = "caf\u00e9"' }));
  });

  it('lower-cases the language', () => {
    assert.equal(hash({ language: 'Python' }), hash({ language: 'python' }));
  });

  it('treats a missing optional field like an empty one', () => {
    assert.equal(hash({ language: undefined, context: undefined }), hash({ language: '', context: '  \n' }));
  });

  it('changes when text moves between fields', () => {
    assert.notEqual(hash({ context: 'ab', correction: 'c' }), hash({ context: 'a', correction: 'bc' }));
    assert.notEqual(hash({ context: 'x', model_output: '' }), hash({ context: '', model_output: 'x' }));
    // Field separators in content cannot forge another split: the encoding is JSON.
    assert.notEqual(hash({ context: 'a","b', model_output: '' }), hash({ context: 'a', model_output: 'b' }));
  });

  it('changes with the model, the kind, the language or any other content difference', () => {
    const reference = hash({});
    const variants: Array<Partial<HashableLearning>> = [
      { model_id: 'coder-7b@2025-02' },
      { kind: 'style' },
      { language: 'python3' },
      { correction: base.correction.replace('\treturn', '\t\treturn') },
      { correction: base.correction.replace('\t', '    ') },
      { correction: base.correction.replace('r ** 2', 'r  ** 2') },
      { correction: base.correction.replace('import math\n\n', 'import math\n') },
      { model_output: base.model_output!.toUpperCase() },
      { context: `${base.context}\n# note` },
    ];
    const hashes = variants.map(hash);
    for (const h of hashes) assert.notEqual(h, reference);
    assert.equal(new Set(hashes).size, hashes.length);
  });
});
