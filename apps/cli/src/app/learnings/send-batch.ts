import type { Context } from '../command';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { ApiError, isTransient, retryAfterMs } from '../http/api-client';
import type { Progress } from '../output/progress';
import { sleep } from '../sleep';
import type { Batch } from './import-file';

const MAX_ATTEMPTS = 6;
/** How long a batch answered 409 IDEMPOTENCY_IN_PROGRESS is retried (the gateway's claim lasts 60 s). */
const IN_PROGRESS_PATIENCE_MS = 90_000;

/**
 * POST /api/v1/learnings/batch, retried with the same Idempotency-Key while the gateway is away or
 * busy. A request still running at the gateway (the last batch of a killed run) answers 409 until
 * it completes; after that the same key replays its answer.
 */
export async function sendBatch(
  { api, signal }: Context,
  batch: Batch,
  key: string,
  progress: Progress,
): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await api.post('/api/v1/learnings/batch', { learnings: batch.learnings }, { 'idempotency-key': key });
      return;
    } catch (err) {
      const inProgress = err instanceof ApiError && err.code === 'IDEMPOTENCY_IN_PROGRESS';
      const giveUp = inProgress ? Date.now() - started > IN_PROGRESS_PATIENCE_MS : attempt >= MAX_ATTEMPTS;
      if (!isTransient(err) || giveUp) throw err;
      const wait = retryAfterMs(err) ?? Math.min(8000, 250 * 2 ** attempt);
      const reason = (err as Error).message.split('\n')[0];
      progress.note(
        `batch ${batch.index + 1} (lines ${batch.firstLine}–${batch.lastLine}): ${reason}; retrying in ${(wait / 1000).toFixed(1)}s`,
      );
      await sleep(wait, signal);
    }
  }
}

/** A 422 for a batch the local check passed (the gateway's rules changed?): its problems by line. */
export function refusedBatch(err: ApiError, batch: Batch, where: string): CliError {
  const byLine = new Map<string, string[]>();
  for (const e of err.problem.errors ?? []) {
    const m = /^\/learnings\/(\d+)(.*)$/.exec(e.path);
    const line = m ? batch.lines[Number(m[1])] : undefined;
    const key = line !== undefined ? `line ${line}` : 'batch';
    byLine.set(key, [...(byLine.get(key) ?? []), `${(line !== undefined && m?.[2]) || e.path} ${e.message}`]);
  }
  const detail = [...byLine.entries()]
    .slice(0, 20)
    .map(([at, problems]) => `\n  ${at}: ${problems.join('; ')}`)
    .join('');
  return new CliError(
    `the gateway refused batch ${batch.index + 1} (lines ${batch.firstLine}–${batch.lastLine}): ` +
      `${err.problem.detail ?? err.code}${detail}\n${where}`,
    EXIT.failed,
    err.details,
  );
}
