import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ESCAPED_TEXT_MARKER,
  findUnstorableText,
  fromStorableJson,
  fromStorableText,
  toStorableJson,
  toStorableText,
} from './storable-text';

/** Every text a model could generate, including what Postgres refuses, survives a round trip. */
const VECTORS: [string, string][] = [
  ['plain text', 'plain text'],
  ['größer → ✓ 😀 \\n', 'größer → ✓ 😀 \\n'],
  ['a\u0000b', `${ESCAPED_TEXT_MARKER}a\\u0000b`],
  ['\ud800', `${ESCAPED_TEXT_MARKER}\\ud800`],
  ['x\udfff\ud83d\ude00\ud83d', `${ESCAPED_TEXT_MARKER}x\\udfff😀\\ud83d`],
  // A backslash next to a refused character is doubled, so a literal "\u0000" stays literal.
  ['\\u0000\u0000', `${ESCAPED_TEXT_MARKER}\\\\u0000\\u0000`],
  // Text that already starts with the marker is escaped as well: decoding never guesses.
  [`${ESCAPED_TEXT_MARKER}\\u0000`, `${ESCAPED_TEXT_MARKER}${ESCAPED_TEXT_MARKER}\\\\u0000`],
  ['', ''],
];

describe('storable text (the rule for model output kept in Postgres)', () => {
  it('leaves storable text alone and escapes what Postgres refuses, reversibly', () => {
    for (const [raw, stored] of VECTORS) {
      assert.equal(toStorableText(raw), stored, JSON.stringify(raw));
      assert.equal(findUnstorableText(stored), undefined, `${JSON.stringify(stored)} is storable`);
      assert.equal(fromStorableText(stored), raw, `round trip of ${JSON.stringify(raw)}`);
    }
  });

  it('round-trips every single UTF-16 code unit, alone and between surrogates', () => {
    for (let c = 0; c < 0x10000; c++) {
      const raw = `\\${String.fromCharCode(c)}\ud800${String.fromCharCode(c)}`;
      const stored = toStorableText(raw);
      assert.equal(findUnstorableText(stored), undefined);
      if (fromStorableText(stored) !== raw) assert.fail(`U+${c.toString(16)} did not round-trip`);
    }
  });

  it('maps a whole JSON value, keys included, and back', () => {
    const raw = {
      output: 'print(1)\u0000',
      sandbox: { stderr_tail: 'x\udc00' },
      n: 1,
      ok: true,
      k: null,
      ['a\u0000']: ['\ud800'],
    };
    const stored = toStorableJson(raw);
    assert.equal(findUnstorableText(stored), undefined);
    assert.deepEqual(fromStorableJson(stored), raw);
  });

  it('maps a value nested 100,000 deep, both ways, without overflowing the stack', () => {
    const depth = 100_000;
    // Arrays and objects alternate; the refused text sits at the bottom, in a key and a value.
    let raw: unknown = { ['bottom\u0000']: 'x\ud800', n: 7 };
    for (let i = 0; i < depth; i++) raw = i % 2 === 0 ? [raw, i] : { ['k\u0000']: raw, i };
    const stored = toStorableJson(raw);
    assert.equal(findUnstorableText(stored), undefined, 'every level was mapped');
    const back = fromStorableJson(stored);
    // Walked down by hand: assert.deepEqual itself recurses and would overflow at this depth.
    let a: unknown = back;
    let s: unknown = stored;
    for (let i = depth - 1; i >= 0; i--) {
      if (i % 2 === 0) {
        assert.ok(Array.isArray(a) && a.length === 2 && a[1] === i, `level ${i} is [inner, ${i}]`);
        a = (a as unknown[])[0];
        s = (s as unknown[])[0];
      } else {
        assert.deepEqual(Object.keys(a as object), ['k\u0000', 'i'], `level ${i} keys decoded`);
        assert.deepEqual(Object.keys(s as object), [`${ESCAPED_TEXT_MARKER}k\\u0000`, 'i']);
        a = (a as Record<string, unknown>)['k\u0000'];
        s = (s as Record<string, unknown>)[`${ESCAPED_TEXT_MARKER}k\\u0000`];
      }
    }
    assert.deepEqual(a, { ['bottom\u0000']: 'x\ud800', n: 7 });
    assert.deepEqual(s, { [`${ESCAPED_TEXT_MARKER}bottom\\u0000`]: `${ESCAPED_TEXT_MARKER}x\\ud800`, n: 7 });
  });

  it('keeps a key named __proto__ as a key (JSON.parse makes it an own property)', () => {
    const raw = JSON.parse('{"__proto__": {"polluted": "a\\u0000"}, "b": 1}') as Record<string, unknown>;
    const back = fromStorableJson(toStorableJson(raw)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(back), ['__proto__', 'b']);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.equal(JSON.stringify(back), JSON.stringify(raw));
  });
});

describe('findUnstorableText', () => {
  it('names the first offending string or key in document order, with its JSON Pointer', () => {
    assert.equal(findUnstorableText({ a: ['ok', { b: 'x' }], c: 1 }), undefined);
    assert.deepEqual(findUnstorableText({ a: ['ok', { 'b/~': 'x\u0000' }], c: '\ud800' }, '/data'), {
      path: '/data/a/1/b~1~0',
      message: 'contains U+0000 (NUL), which text cannot store',
    });
    // A key is checked before its value, and an earlier key's value before a later key.
    assert.equal(findUnstorableText({ ['k\u0000']: '\ud800' })?.path, '/k\\u0000');
    assert.match(findUnstorableText({ ['k\u0000']: '\ud800' })!.message, /^key contains U\+0000/);
    assert.equal(findUnstorableText({ a: { z: '\udc00' }, ['b\u0000']: 1 })?.path, '/a/z');
    assert.equal(findUnstorableText('\u0000')?.path, '/');
  });

  it('walks a value nested 100,000 deep without overflowing the stack', () => {
    const depth = 100_000;
    // Built bottom-up, as JSON.parse would build it from a small hostile body.
    let arrays: unknown = 'bottom\u0000';
    let objects: unknown = 'clean';
    for (let i = 0; i < depth; i++) {
      arrays = [arrays];
      objects = { k: objects };
    }
    const issue = findUnstorableText(arrays, '/data');
    assert.ok(issue, 'the NUL at the bottom is found');
    assert.equal(issue.path, `/data${'/0'.repeat(depth)}`);
    assert.equal(findUnstorableText(objects), undefined, 'a deep clean value is storable');
    assert.equal(findUnstorableText({ deep: objects, last: '\ud800' })?.path, '/last');
  });
});
