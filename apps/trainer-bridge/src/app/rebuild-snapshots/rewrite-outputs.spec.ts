import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FORGOTTEN_OUTPUT, rewriteOutputs, rewriteResultsObject } from './rewrite-outputs';

const upper: (texts: string[]) => Promise<string[]> = async (texts) =>
  texts.map((t) => t.replace(/SECRET-\d+/g, '[REDACTED:x]'));

describe('rewriteOutputs', () => {
  it('rewrites the output and the stderr tail, and says which results changed', async () => {
    const input = [
      {
        item_id: 'a',
        output: 'key SECRET-1',
        sandbox: { outcome: 'error', stderr_tail: 'SECRET-2 at line 1' },
      },
      { item_id: 'b', output: 'clean', correct: true },
      { item_id: 'c', bleu: 3 },
    ];
    const out = await rewriteOutputs(input, upper);
    assert.deepEqual(
      out.map((o) => o.changed),
      [true, false, false],
    );
    assert.deepEqual(out[0]!.value, {
      item_id: 'a',
      output: 'key [REDACTED:x]',
      sandbox: { outcome: 'error', stderr_tail: '[REDACTED:x] at line 1' },
    });
    assert.equal(input[0]!.output, 'key SECRET-1', 'the input is left as it was');
    assert.deepEqual(out[2]!.value, { item_id: 'c', bleu: 3 });
  });

  it('refuses a rewrite that answers the wrong number of texts', async () => {
    await assert.rejects(
      rewriteOutputs([{ output: 'x' }], async () => []),
      /one text per text/,
    );
  });
});

describe('rewriteResultsObject', () => {
  const jsonl =
    [
      JSON.stringify({ item_id: 'keep', output: 'SECRET-3' }),
      JSON.stringify({ item_id: 'forget-me', output: 'the correction', correct: true }),
      'not json',
    ].join('\n') + '\n';

  it('rewrites only the selected items and keeps every other line byte for byte', async () => {
    const forgotten = await rewriteResultsObject(
      jsonl,
      (id) => id === 'forget-me',
      async (t) => t.map(() => FORGOTTEN_OUTPUT),
    );
    assert.equal(forgotten.changed, true);
    assert.equal(forgotten.items, 1);
    const lines = forgotten.jsonl.trimEnd().split('\n');
    assert.equal(lines[0], JSON.stringify({ item_id: 'keep', output: 'SECRET-3' }));
    assert.deepEqual(JSON.parse(lines[1]!), {
      item_id: 'forget-me',
      output: FORGOTTEN_OUTPUT,
      correct: true,
    });
    assert.equal(lines[2], 'not json');
    assert.match(forgotten.sha256, /^[0-9a-f]{64}$/);
  });

  it('reports no change when nothing it selects changes', async () => {
    const same = await rewriteResultsObject(
      jsonl,
      () => true,
      async (t) => t,
    );
    assert.equal(same.changed, false);
    const cleaned = await rewriteResultsObject(jsonl, () => true, upper);
    assert.equal(cleaned.items, 1);
    assert.ok(!cleaned.jsonl.includes('SECRET-3'));
  });
});
