/**
 * Renders docs/subjects.md (who publishes and who consumes each subject) from
 * libs/contracts/src/catalogue.ts: `npm run contracts:docs`. `--check` only reports whether the
 * committed file is up to date (exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBJECTS_DOC_PATH, renderSubjectsDoc } from '@genesis/contracts';

const REPO = join(__dirname, '..', '..', '..');

function main(): void {
  const path = join(REPO, SUBJECTS_DOC_PATH);
  const rendered = renderSubjectsDoc();
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // not there yet
  }
  if (current === rendered) {
    process.stdout.write(`${SUBJECTS_DOC_PATH} is up to date\n`);
  } else if (process.argv.includes('--check')) {
    process.stderr.write(
      `[genesis:contracts] ${SUBJECTS_DOC_PATH} is out of date: run \`npm run contracts:docs\`\n`,
    );
    process.exit(1);
  } else {
    writeFileSync(path, rendered);
    process.stdout.write(`wrote ${SUBJECTS_DOC_PATH}\n`);
  }
}

main();
