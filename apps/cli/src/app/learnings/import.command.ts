import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Context, Run, Values } from '../command';
import { CliError, InterruptedError, UsageError } from '../errors';
import { EXIT, type ExitCode } from '../exit-codes';
import { ApiError } from '../http/api-client';
import { Progress } from '../output/progress';
import { batches, scanFile, type Batch, type Scan } from './import-file';
import { batchKey, loadState, removeState, saveState, statePath, type ImportState } from './import-state';
import { refusedBatch, sendBatch } from './send-batch';

const DEFAULT_BATCH = 500;
const MAX_BATCH = 1000;
const SHOWN_INVALID = 20;

interface Job {
  /** As the user wrote it (messages), and resolved. */
  name: string;
  file: string;
  stateFile: string;
  scan: Scan;
  batchSize: number;
  skipInvalid: boolean;
  /** --restart: an earlier run's progress was dropped and this run sends the whole file again. */
  restarted: boolean;
}

/**
 * `genesis learnings import FILE.jsonl`: check the whole file, then POST it in batches, keeping its
 * progress in FILE.jsonl.genesis-import.json so that the same command resumes after Ctrl-C or a crash.
 */
export const run: Run = async (ctx, { values, positionals }) => {
  const name = positionals[0]!;
  const file = resolve(ctx.cwd, name);
  const stateFile = statePath(file);
  assertReadable(file, name);
  // --restart drops the earlier run (finished or not): the new run's new Idempotency-Keys make
  // the gateway take every line again instead of replaying its earlier answers.
  const restarted = values['restart'] === true && loadStateQuietly(stateFile) !== undefined;
  if (values['restart']) removeState(stateFile);
  const state = loadState(stateFile);
  // Batches and their keys depend on the settings: a resumed import keeps those it began with.
  let batchSize = parseBatchSize(values['batch-size'] as string | undefined);
  if (state && values['batch-size'] !== undefined && batchSize !== state.batch_size) {
    ctx.out.warn(`continuing the interrupted import with its --batch-size ${state.batch_size}`);
  }
  batchSize = state?.batch_size ?? batchSize;
  const skipInvalid = state?.skip_invalid ?? values['skip-invalid'] === true;

  const scan = await scanFile(file, ctx.signal);
  if (state && state.sha256 !== scan.sha256) {
    throw new UsageError(
      `${name} changed since the import recorded in ${stateFile} began; ` +
        `run with --restart to import its current content from the start`,
    );
  }
  const job: Job = { name, file, stateFile, scan, batchSize, skipInvalid, restarted };
  const verdict = checkLines(ctx, job, values);
  if (verdict !== undefined) return verdict;

  if (state?.completed_at) {
    if (ctx.out.json) ctx.out.data({ ...summary(job, state, 1), already_imported: true });
    else {
      ctx.out.line(
        `${name} was already imported (${state.learnings_sent} learnings, ${state.completed_at}); ` +
          `--restart sends it again (new Idempotency-Keys; content already stored counts as a duplicate)`,
      );
    }
    return EXIT.ok;
  }
  if (scan.learnings === 0) {
    if (ctx.out.json) ctx.out.data({ file, lines: scan.lines, learnings: 0, sent: 0, batches: 0 });
    else ctx.out.line(`${name} holds no learnings; nothing to do`);
    return EXIT.ok;
  }
  return send(ctx, job, state);
};

/** Whether an earlier run left its progress (an unreadable state counts as one: --restart drops it). */
function loadStateQuietly(stateFile: string): ImportState | undefined {
  try {
    return loadState(stateFile);
  } catch {
    return { version: 1 } as ImportState;
  }
}

function assertReadable(file: string, name: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${name}: ${e.code ?? e.message}`);
  }
  if (!isFile) throw new UsageError(`${name} is not a file`);
}

function parseBatchSize(value: string | undefined): number {
  if (value === undefined) return DEFAULT_BATCH;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH) {
    throw new UsageError(`--batch-size must be an integer from 1 to ${MAX_BATCH}`);
  }
  return n;
}

/** Reports invalid lines; ends the command (returns its exit code) for --dry-run or when they stop it. */
function checkLines({ out }: Context, job: Job, values: Values): ExitCode | undefined {
  const { scan, name } = job;
  const dryRun = values['dry-run'] === true;
  if (scan.invalidCount > 0) {
    out.note(`${scan.invalidCount} invalid line(s)${job.skipInvalid ? ' (skipped)' : ''}:`);
    for (const { line, problem } of scan.invalid.slice(0, SHOWN_INVALID))
      out.note(`  line ${line}: ${problem}`);
    if (scan.invalidCount > SHOWN_INVALID) out.note(`  … and ${scan.invalidCount - SHOWN_INVALID} more`);
  }
  if (dryRun) {
    const counts = {
      lines: scan.lines,
      learnings: scan.learnings,
      blank: scan.blank,
      invalid: scan.invalidCount,
    };
    if (out.json) out.data({ file: job.file, dry_run: true, ...counts, invalid_lines: scan.invalid });
    else {
      out.line(
        `${name}: ${scan.learnings} valid learning(s), ${scan.invalidCount} invalid line(s), ${scan.blank} blank`,
      );
    }
    return scan.invalidCount > 0 && !job.skipInvalid ? EXIT.usage : EXIT.ok;
  }
  if (scan.invalidCount > 0 && !job.skipInvalid) {
    throw new CliError(
      `${scan.invalidCount} invalid line(s) in ${name}; nothing was sent. ` +
        `Fix them, or run with --skip-invalid to send the ${scan.learnings} valid learnings`,
      EXIT.usage,
      { code: 'INVALID_LINES', invalid_count: scan.invalidCount, invalid_lines: scan.invalid },
    );
  }
  return undefined;
}

function newState(job: Job, gateway: string): ImportState {
  const now = new Date().toISOString();
  return {
    version: 1,
    run_id: randomUUID(),
    file: basename(job.file),
    sha256: job.scan.sha256,
    size: job.scan.size,
    gateway,
    batch_size: job.batchSize,
    skip_invalid: job.skipInvalid,
    total_learnings: job.scan.learnings,
    next_offset: 0,
    next_line: 1,
    batches_acknowledged: 0,
    learnings_sent: 0,
    invalid_skipped: 0,
    pending_batch: null,
    started_at: now,
    updated_at: now,
    completed_at: null,
  };
}

/** Pass 2: every batch after the last acknowledged one, the state saved before and after each. */
async function send(ctx: Context, job: Job, resumed: ImportState | undefined): Promise<ExitCode> {
  const { out, api } = ctx;
  const state = resumed ?? newState(job, api.baseUrl);
  const resumedFrom = state.next_line;
  if (resumed) {
    if (resumed.gateway !== api.baseUrl) {
      out.warn(`the interrupted import went to ${resumed.gateway}; continuing at ${api.baseUrl}`);
    }
    out.note(
      `resuming ${job.name} at line ${state.next_line} (${state.learnings_sent} of ${state.total_learnings} learnings already sent)`,
    );
  } else saveState(job.stateFile, state); // fails here, before anything is sent, if the folder is read-only

  const started = Date.now();
  const interval = Number(ctx.env['GENESIS_PROGRESS_INTERVAL_MS'] ?? 5000);
  const progress = new Progress(
    out,
    'import',
    job.scan.learnings,
    Number.isFinite(interval) ? interval : 5000,
    state.learnings_sent,
  );
  let current: Batch | undefined;
  try {
    for await (const batch of batches(job.file, state)) {
      current = batch;
      state.pending_batch = {
        index: batch.index,
        idempotency_key: batchKey(state.sha256, state.batch_size, batch.index, batch.firstLine, state.run_id),
        first_line: batch.firstLine,
        last_line: batch.lastLine,
        learnings: batch.learnings.length,
      };
      saveState(job.stateFile, state);
      await sendBatch(ctx, batch, state.pending_batch.idempotency_key, progress);
      state.pending_batch = null;
      state.next_offset = batch.next.offset;
      state.next_line = batch.next.line;
      state.batches_acknowledged = batch.index + 1;
      state.learnings_sent += batch.learnings.length;
      state.invalid_skipped += batch.invalidSkipped;
      saveState(job.stateFile, state);
      progress.update(state.learnings_sent, `batch ${batch.index + 1}`);
    }
  } catch (err) {
    progress.clear();
    throw stopped(err, state, current);
  }
  progress.clear();

  state.completed_at = new Date().toISOString();
  state.next_offset = job.scan.size;
  state.next_line = job.scan.lines + 1;
  state.invalid_skipped = job.scan.invalidCount; // with --skip-invalid every invalid line was skipped
  saveState(job.stateFile, state);
  if (out.json) out.data(summary(job, state, resumedFrom));
  else {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const skipped = state.invalid_skipped ? `; skipped ${state.invalid_skipped} invalid line(s)` : '';
    const resumedAt = resumedFrom > 1 ? ` (resumed at line ${resumedFrom})` : '';
    // "sent": the gateway put them on the bus; the learner then stores, deduplicates or quarantines.
    out.line(
      `sent ${state.learnings_sent} learnings from ${job.name} in ${state.batches_acknowledged} batch(es), ${seconds}s${resumedAt}${skipped}`,
    );
    if (job.restarted) {
      out.line(
        'restarted: every line was sent again with new Idempotency-Keys; the learner keeps each ' +
          'content once per model, so lines it already stored are recorded as duplicates',
      );
    }
  }
  return EXIT.ok;
}

/** Why the import stopped, and how to go on. */
function stopped(err: unknown, state: ImportState, batch: Batch | undefined): unknown {
  const where =
    `${state.learnings_sent} of ${state.total_learnings} learnings sent; ` +
    `run the same command again to continue from line ${state.next_line}`;
  if (err instanceof InterruptedError) return new InterruptedError(`interrupted: ${where}`);
  if (err instanceof ApiError && err.status === 422 && batch) return refusedBatch(err, batch, where);
  if (err instanceof ApiError && err.code === 'BATCH_TOO_LARGE') {
    return new CliError(
      `${err.message}\nrun with --restart and a smaller --batch-size`,
      err.exitCode,
      err.details,
    );
  }
  if (err instanceof CliError) return new CliError(`${err.message}\n${where}`, err.exitCode, err.details);
  return err;
}

function summary(job: Job, s: ImportState, resumedFrom: number) {
  return {
    file: job.file,
    state_file: job.stateFile,
    learnings: s.total_learnings,
    sent: s.learnings_sent,
    batches: s.batches_acknowledged,
    invalid_skipped: s.invalid_skipped,
    resumed_from_line: resumedFrom > 1 ? resumedFrom : null,
    restarted: job.restarted,
    run_id: s.run_id ?? null,
    completed_at: s.completed_at,
  };
}
