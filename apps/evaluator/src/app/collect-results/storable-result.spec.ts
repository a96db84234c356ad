import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findUnstorableText, type EvalItemResult } from '@genesis/contracts';
import { storableResult } from './storable-result';

const result = (output: string, stderr?: string): EvalItemResult => ({
  item_id: 'HumanEval/0',
  split: 'regression',
  exact: false,
  functional: false,
  correct: false,
  nll: null,
  tokens: 0,
  bleu: 0,
  output,
  ...(stderr === undefined ? {} : { sandbox: { outcome: 'failed', stderr_tail: stderr } }),
});

describe('the per-item copy in Postgres', () => {
  it('keeps clean results as they are', () => {
    const r = result('def f():\n    return 1', 'Traceback');
    assert.deepEqual(storableResult(r), r);
  });

  it('escapes what Postgres cannot store, says so, and loses nothing', () => {
    const raw = 'x = 1\u0000\ud800 Total';
    const stored = storableResult(result(raw, `SyntaxError\u0000`));
    assert.equal(findUnstorableText(stored), undefined);
    assert.deepEqual(stored.escaped, ['output', 'sandbox.stderr_tail']);
    assert.equal(JSON.parse(`"${stored.output}"`), raw);
    assert.equal(JSON.parse(`"${stored.sandbox!.stderr_tail}"`), 'SyntaxError\u0000');
  });
});
