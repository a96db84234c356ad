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
});
