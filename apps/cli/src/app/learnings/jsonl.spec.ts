import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLine, readLines, type RawLine } from './jsonl';

const dir = mkdtempSync(join(tmpdir(), 'genesis-jsonl-'));
async function collect(path: string, from?: { offset: number; line: number }): Promise<RawLine[]> {
  const out: RawLine[] = [];
  for await (const line of readLines(path, from)) out.push(line);
  return out;
}

describe('readLines', () => {
  it('yields every line with its byte offsets, with or without a final newline', async () => {
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, 'ab\n\nçd\r\nlast');
    const lines = await collect(path);
    assert.deepEqual(
      lines.map((l) => [l.number, l.start, l.end, l.bytes?.toString()]),
      [
        [1, 0, 3, 'ab'],
        [2, 3, 4, ''],
        [3, 4, 9, 'çd\r'],
        [4, 9, 13, 'last'],
      ],
    );
  });

  it('starts at an offset and keeps counting lines from there', async () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, 'one\ntwo\nthree\n');
    const lines = await collect(path, { offset: 4, line: 2 });
    assert.deepEqual(
      lines.map((l) => [l.number, l.start, l.bytes?.toString()]),
      [
        [2, 4, 'two'],
        [3, 8, 'three'],
      ],
    );
  });
});

describe('parseLine', () => {
  const line = (text: string | Buffer, number = 2): RawLine => {
    const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
    return { number, start: 0, end: bytes.length + 1, bytes };
  };

  it('accepts a learning, skips blank lines and a BOM on line 1', () => {
    const ok = JSON.stringify({ kind: 'correction', source: 't', correction: 'x' });
    assert.equal(parseLine(line(ok)).kind, 'learning');
    assert.equal(parseLine(line(`\uFEFF${ok}\r`, 1)).kind, 'learning');
    assert.equal(parseLine(line('   \r')).kind, 'blank');
  });

  it('says why a line is invalid', () => {
    const problem = (l: RawLine) => {
      const p = parseLine(l);
      return p.kind === 'invalid' ? p.problem : p.kind;
    };
    assert.match(problem(line('{"kind": ')), /not valid JSON/);
    assert.match(problem(line('[1]')), /not a JSON object/);
    assert.match(problem(line('{"kind":"correction","source":"t"}')), /\/correction is required/);
    assert.match(problem(line('{"kind":"nope","source":"t","correction":"x"}')), /\/kind/);
    assert.match(problem(line(Buffer.from([0x7b, 0xff, 0x7d]))), /UTF-8/);
    assert.match(problem({ number: 3, start: 0, end: 1, bytes: undefined }), /longer than/);
  });
});
