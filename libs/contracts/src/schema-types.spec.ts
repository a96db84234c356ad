import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..', '..');
const SRC = join(REPO, 'libs', 'contracts', 'src');

describe('the TypeScript types of the contract schemas (ADR 0026)', () => {
  it('libs/contracts/src/generated is rendered from libs/contracts/schemas (npm run contracts:types)', () => {
    // The renderer's own check: it names the stale files and the command that rewrites them.
    try {
      execFileSync(process.execPath, [join(REPO, 'tools', 'contracts', 'render-types.mjs'), '--check'], {
        cwd: REPO,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      const { stderr } = err as { stderr?: string };
      assert.fail(stderr || String(err));
    }
  });

  it('events.ts names every generated type instead of restating it by hand', () => {
    const generated = readFileSync(join(SRC, 'generated', 'index.ts'), 'utf8');
    const names = [...generated.matchAll(/^export type \{ (\w+) \}/gm)].map((m) => m[1]!);
    assert.ok(names.includes('JobsTrainV1') && names.includes('WorkersHeartbeatV1'), names.join(', '));
    const events = readFileSync(join(SRC, 'events.ts'), 'utf8');
    const missing = names.filter((name) => !new RegExp(`\\bG\\.${name}\\b`).test(events));
    assert.deepEqual(
      missing,
      [],
      `alias these in libs/contracts/src/events.ts as \`export type X = G.X\` (replacing any hand-written interface)`,
    );
    // A hand-written interface under a generated name would shadow the schema's type.
    for (const name of names) {
      assert.doesNotMatch(events, new RegExp(`^export interface ${name}\\b`, 'm'), `${name} is hand-written`);
    }
  });
});
