import { BROADCASTS, REQUESTS, STREAMS, SUBJECTS } from './subjects';

/** Where the rendered catalogue lives, relative to the repository root. */
export const PYTHON_SUBJECTS_PATH = 'apps/trainer-worker/src/trainer_worker/subjects.py';

/** learningCaptured → LEARNING_CAPTURED */
function constantName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function block(title: string, values: Record<string, string>, prefix = ''): string {
  const lines = Object.entries(values).map(
    ([key, value]) => `${prefix}${constantName(key)} = ${JSON.stringify(value)}`,
  );
  return `# --- ${title} ---\n${lines.join('\n')}\n`;
}

/**
 * The Python worker's subject catalogue, rendered from subjects.ts so the two languages can never
 * name a subject differently: `npm run contracts:python` writes it, and a spec fails when the
 * committed file drifts from this rendering.
 */
export function renderPythonSubjects(): string {
  return [
    '"""Subjects and streams of the bus, generated from libs/contracts/src/subjects.ts: do not edit.\n\n' +
      'Regenerate with `npm run contracts:python` (a spec fails when this file is stale). The subject\n' +
      'scheme is ADR 0001; workers.heartbeat is ADR 0023.\n"""\n',
    block('events and jobs, stored in a stream (SUBJECTS)', SUBJECTS),
    block('core request/reply, not stored (REQUESTS)', REQUESTS),
    block('core fire-and-forget, not stored (BROADCASTS)', BROADCASTS),
    block('streams (STREAMS)', STREAMS, 'STREAM_'),
  ].join('\n');
}
