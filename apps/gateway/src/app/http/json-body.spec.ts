import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, MAX_KEY_LENGTH, parseStrictJson } from './json-body';

describe('parseStrictJson', () => {
  it('parses UTF-8 JSON, including non-ASCII text', () => {
    assert.deepEqual(parseStrictJson(Buffer.from('{"a":"größer → ✓"}', 'utf8')), { a: 'größer → ✓' });
  });
  it('refuses invalid UTF-8 instead of replacing it', () => {
    assert.throws(
      () => parseStrictJson(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
      (e: { code?: string }) => e.code === 'INVALID_UTF8',
    );
  });
  it('refuses malformed and empty JSON', () => {
    assert.throws(
      () => parseStrictJson(Buffer.from('{"a":')),
      (e: { code?: string }) => e.code === 'MALFORMED_JSON',
    );
    assert.throws(
      () => parseStrictJson(Buffer.from('  ')),
      (e: { code?: string }) => e.code === 'MALFORMED_JSON',
    );
  });
  it('refuses text that cannot be stored (U+0000, unpaired surrogates), naming where it is', () => {
    const refused = (json: string) => {
      try {
        parseStrictJson(Buffer.from(json));
      } catch (e) {
        const p = e as { code?: string; detail?: string };
        if (p.code === 'INVALID_TEXT') return p.detail;
      }
      assert.fail(`accepted ${json}`);
    };
    assert.match(refused('{"correction":"a\\u0000b"}')!, /^\/correction contains U\+0000/);
    assert.match(refused('{"learnings":[{"c":"ok"},{"c":"\\ud800"}]}')!, /^\/learnings\/1\/c .*surrogate/);
    assert.match(refused('{"metadata":{"\\udc00x":1}}')!, /^\/metadata\/\\udc00x key .*surrogate/);
  });
  it('accepts escapes that are text: a surrogate pair, an escaped backslash before u0000', () => {
    assert.deepEqual(parseStrictJson(Buffer.from('{"a":"\\ud83d\\ude00"}')), { a: '😀' });
    assert.deepEqual(parseStrictJson(Buffer.from('{"a":"\\\\u0000"}')), { a: '\\u0000' });
  });
  it('bounds nesting and key length without recursion (400 JSON_TOO_DEEP / KEY_TOO_LONG)', () => {
    const code = (json: string) => {
      try {
        parseStrictJson(Buffer.from(json));
        return 'parsed';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    // 5,000 nested arrays with one escape: the recursive text check once overflowed the stack here.
    assert.equal(code(`${'['.repeat(5000)}"\\u0041"${']'.repeat(5000)}`), 'JSON_TOO_DEEP');
    assert.equal(code(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`), 'JSON_TOO_DEEP');
    assert.equal(code(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`), 'parsed');
    assert.equal(code(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`), 'JSON_TOO_DEEP');
    assert.equal(code(JSON.stringify({ m: { ['k'.repeat(MAX_KEY_LENGTH)]: 1 } })), 'parsed');
    assert.equal(code(JSON.stringify({ m: { ['k'.repeat(MAX_KEY_LENGTH + 1)]: 1 } })), 'KEY_TOO_LONG');
    assert.equal(code(JSON.stringify([{ ['k'.repeat(1024 * 1024 + 1)]: 1 }])), 'KEY_TOO_LONG');
  });
});
