import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../problem/problem';
import { refuseSecrets } from './refuse-secrets';

const TOKEN = `ghp_${'iK2ZWeqhFWCEPyYngFb51yBMWXaSCrUZoL8g'}`;

async function refusal(body: unknown): Promise<ProblemError> {
  try {
    await refuseSecrets(body, 'the body');
  } catch (err) {
    assert.ok(err instanceof ProblemError);
    return err;
  }
  assert.fail('no refusal');
}

describe('refuseSecrets (admin texts)', () => {
  it('lets clean bodies through, whatever their shape', async () => {
    for (const body of [undefined, null, 3, 'plain', [], {}, { a: ['x', { b: 'the staging database' }] }])
      await refuseSecrets(body, 'the body');
  });

  it('names every field that holds a secret, by JSON Pointer, with the rules and never the value', async () => {
    const err = await refusal({
      a: 'ok',
      list: ['fine', `t ${TOKEN}`],
      'x/y~': { url: 'postgres://u:S3cretPassw0rd!@h/db' },
    });
    assert.equal(err.status, 422);
    assert.equal(err.code, 'SECRET_IN_FIELD');
    const errors = err.extra['errors'] as { path: string; message: string }[];
    assert.deepEqual(
      errors.map((e) => e.path),
      ['/list/1', '/x~1y~0/url'],
    );
    assert.match(errors[0]!.message, /github/);
    const shown = JSON.stringify({ detail: err.detail, extra: err.extra });
    assert.ok(!shown.includes(TOKEN) && !shown.includes('S3cretPassw0rd'), shown);
  });

  it('shows a key that is itself a secret as *, in its own path and its children’s', async () => {
    const err = await refusal({ outer: { [TOKEN]: { inner: `again ${TOKEN}` } } });
    const errors = err.extra['errors'] as { path: string }[];
    assert.deepEqual(
      errors.map((e) => e.path),
      ['/outer/*', '/outer/*/inner'],
    );
    assert.ok(!JSON.stringify({ detail: err.detail, extra: err.extra }).includes(TOKEN));
  });

  it('names at most 20 fields and counts the rest', async () => {
    const body = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`f${i}`, `password=hunter2hunter${i}`]),
    );
    const err = await refusal(body);
    assert.equal((err.extra['errors'] as unknown[]).length, 20);
    assert.equal(err.extra['errors_total'], 30);
    assert.match(String(err.detail), /and 10 more/);
  });
});
