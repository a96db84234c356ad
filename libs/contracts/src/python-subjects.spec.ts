import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON_SUBJECTS_PATH, renderPythonSubjects } from './python-subjects';
import { BROADCASTS, SUBJECTS } from './subjects';

const REPO = join(__dirname, '..', '..', '..', '..');

describe('the Python subject catalogue', () => {
  it(`${PYTHON_SUBJECTS_PATH} is rendered from subjects.ts (npm run contracts:python)`, () => {
    assert.equal(readFileSync(join(REPO, PYTHON_SUBJECTS_PATH), 'utf8'), renderPythonSubjects());
  });

  it('names every subject as an upper-case constant with its exact value', () => {
    const rendered = renderPythonSubjects();
    assert.match(rendered, /^JOBS_TRAIN = "jobs\.train"$/m);
    assert.match(rendered, /^MODEL_ROLLED_BACK = "model\.rolled_back"$/m);
    assert.match(rendered, /^WORKERS_HEARTBEAT = "workers\.heartbeat"$/m);
    const constants = rendered.match(/^[A-Z_]+ = /gm) ?? [];
    assert.equal(new Set(constants).size, constants.length, 'no two constants share a name');
    assert.ok(constants.length >= Object.keys(SUBJECTS).length + Object.keys(BROADCASTS).length);
  });
});
