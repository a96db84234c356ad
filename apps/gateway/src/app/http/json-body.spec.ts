import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrictJson } from './json-body';

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
});
