import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Output, printable } from './output';

describe('printable (API text on a terminal)', () => {
  it('leaves ordinary text, newlines, tabs and non-Latin text alone', () => {
    for (const t of ['plain', 'a\n\tb', 'größer → ✓ 😀', '']) assert.equal(printable(t), t);
  });

  it('writes every control character out as text, C1 and bidi overrides included', () => {
    assert.equal(printable('a\u001b[2Jb'), 'a\\u001b[2Jb');
    assert.equal(printable('\u001b]52;c;ZXZpbA==\u0007'), '\\u001b]52;c;ZXZpbA==\\u0007');
    assert.equal(printable('x\ry'), 'x\\u000dy');
    assert.equal(printable('\u009b31m'), '\\u009b31m');
    assert.equal(printable('\u202eabc\u2066'), '\\u202eabc\\u2066');
    assert.equal(printable('\u0000\u007f'), '\\u0000\\u007f');
  });

  it("keeps the CLI's own bold and dim styles, even next to a neutralised sequence", () => {
    assert.equal(printable('\u001b[1mok\u001b[22m \u001b[31mred'), '\u001b[1mok\u001b[22m \\u001b[31mred');
  });

  it('is applied to every human line and message, not to --json documents', () => {
    let stdout = '';
    let stderr = '';
    const out = new Output(
      { write: (t: string) => (stdout += t) },
      { write: (t: string) => (stderr += t) },
      false,
    );
    out.line('base \u001b[2J');
    out.error('detail \u001b]0;t\u0007');
    out.warn('\r');
    out.note('\u001b[K');
    assert.equal(stdout, 'base \\u001b[2J\n');
    assert.equal(stderr, 'genesis: error: detail \\u001b]0;t\\u0007\ngenesis: warning: \\u000d\n\\u001b[K\n');
    const machine = new Output({ write: (t: string) => (stdout = t) }, { write: () => 0 }, true);
    machine.data({ v: '\u001b' });
    assert.equal(stdout, '{"v":"\\u001b"}\n');
  });
});
