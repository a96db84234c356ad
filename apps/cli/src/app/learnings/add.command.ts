import type { Context, Run, Values } from '../command';
import { CliError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { ApiError } from '../http/api-client';
import { sleep } from '../sleep';
import { learningProblem } from './learning-check';

const FIELDS: [flag: string, field: string][] = [
  ['kind', 'kind'],
  ['source', 'source'],
  ['language', 'language'],
  ['context', 'context'],
  ['model-output', 'model_output'],
  ['correction', 'correction'],
  ['produced-by', 'produced_by'],
  ['model-id', 'model_id'],
];

interface LearningView {
  id: string;
  status: 'accepted' | 'duplicate' | 'quarantined';
  duplicate_of: string | null;
  quarantine_reason: string | null;
  redaction_count: number;
}

/** `genesis learnings add`: POST /api/v1/learnings, optionally waiting for the learner's outcome. */
export const run: Run = async (ctx, { values }) => {
  const { api, out } = ctx;
  const learning = await buildLearning(values);
  const problem = learningProblem(learning);
  if (problem) throw new UsageError(`invalid learning: ${problem}`);
  const key = values['idempotency-key'] as string | undefined;
  const { body } = await api.post<{ id: string }>(
    '/api/v1/learnings',
    learning,
    key ? { 'idempotency-key': key } : {},
  );
  if (!values['wait']) {
    if (out.json) out.data(body);
    else out.line(`captured learning ${body.id}`);
    return EXIT.ok;
  }
  const view = await waitStored(ctx, body.id);
  if (out.json) out.data({ ...body, learning: view ?? null });
  else {
    out.line(`captured learning ${body.id}`);
    if (view) out.line(describeOutcome(view));
  }
  return EXIT.ok;
};

async function buildLearning(values: Values): Promise<Record<string, string>> {
  const learning: Record<string, string> = { source: 'cli' };
  let stdinUsed = false;
  for (const [flag, field] of FIELDS) {
    const value = values[flag];
    if (typeof value !== 'string') continue;
    if (value === '-') {
      if (stdinUsed) throw new UsageError('only one field can be read from stdin ("-")');
      stdinUsed = true;
      learning[field] = await readStdin();
    } else learning[field] = value;
  }
  if (!learning['kind']) throw new UsageError('--kind is required (correction, pattern or error_fix)');
  if (!learning['correction']) throw new UsageError('--correction is required');
  return learning;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Polls GET /api/v1/learnings/:id until the learner has stored it (undefined if it could not say). */
async function waitStored({ api, out, signal }: Context, id: string): Promise<LearningView | undefined> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      return (await api.get<LearningView>(`/api/v1/learnings/${id}`)).body;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        out.warn(`cannot --wait: ${err.message}`);
        return undefined;
      }
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    await sleep(200, signal);
  }
  throw new CliError(
    `learning ${id} was captured but not stored within 15s (is the learner running?)`,
    EXIT.timeout,
    {
      code: 'TIMEOUT',
      id,
    },
  );
}

function describeOutcome(v: LearningView): string {
  const redacted = v.redaction_count > 0 ? ` (${v.redaction_count} secret(s) redacted)` : '';
  if (v.status === 'duplicate') return `stored as a duplicate of ${v.duplicate_of ?? '?'}`;
  if (v.status === 'quarantined') return `quarantined: ${v.quarantine_reason ?? 'no reason given'}`;
  return `accepted${redacted}`;
}
