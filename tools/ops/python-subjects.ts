/**
 * Renders apps/trainer-worker/src/trainer_worker/subjects.py from libs/contracts/src/subjects.ts:
 * `npm run contracts:python`. `--check` only reports whether the committed file is up to date
 * (exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON_SUBJECTS_PATH, renderPythonSubjects } from '@genesis/contracts';

const REPO = join(__dirname, '..', '..', '..');

function main(): void {
  const path = join(REPO, PYTHON_SUBJECTS_PATH);
  const rendered = renderPythonSubjects();
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // not there yet
  }
  if (current === rendered) {
    process.stdout.write(`${PYTHON_SUBJECTS_PATH} is up to date\n`);
  } else if (process.argv.includes('--check')) {
    process.stderr.write(
      `[genesis:contracts] ${PYTHON_SUBJECTS_PATH} is out of date: run \`npm run contracts:python\`\n`,
    );
    process.exit(1);
  } else {
    writeFileSync(path, rendered);
    process.stdout.write(`wrote ${PYTHON_SUBJECTS_PATH}\n`);
  }
}

main();
