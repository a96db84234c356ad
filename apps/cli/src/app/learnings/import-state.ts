import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors';

/**
 * The progress of one `learnings import`, kept beside the input file. It is written before each
 * batch is sent (with that batch's Idempotency-Key) and after the gateway acknowledged it, so a
 * re-run after Ctrl-C or a crash starts after the last acknowledged batch and resends the one that
 * may have been in flight with the same key: the gateway answers it from its idempotency store (or,
 * once that expired, republishes the same learning ids, which the learner stores once). The keys
 * belong to one run: --restart begins a new run with new keys (batchKey).
 */
export interface ImportState {
  version: 1;
  /**
   * This run's id, part of every batch's Idempotency-Key: a resumed run keeps it (a batch that may
   * have been in flight is answered from the gateway's idempotency store), a new run (first import,
   * or --restart) gets a new one, so the gateway really receives the file again. Absent in states
   * written before run ids existed; those keep their old keys until they finish.
   */
  run_id?: string;
  file: string;
  sha256: string;
  size: number;
  gateway: string;
  batch_size: number;
  skip_invalid: boolean;
  total_learnings: number;
  /** Where the next batch starts. */
  next_offset: number;
  next_line: number;
  batches_acknowledged: number;
  learnings_sent: number;
  invalid_skipped: number;
  pending_batch: PendingBatch | null;
  started_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface PendingBatch {
  index: number;
  idempotency_key: string;
  first_line: number;
  last_line: number;
  learnings: number;
}

export function statePath(file: string): string {
  return `${file}.genesis-import.json`;
}

export function loadState(path: string): ImportState | undefined {
  if (!existsSync(path)) return undefined;
  let state: ImportState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as ImportState;
  } catch (err) {
    throw new UsageError(
      `cannot read the import state ${path} (${(err as Error).message}); delete it or use --restart`,
    );
  }
  if (state.version !== 1 || typeof state.sha256 !== 'string' || typeof state.next_offset !== 'number') {
    throw new UsageError(`${path} is not an import state this CLI understands; delete it or use --restart`);
  }
  return state;
}

/** Written atomically (temp file + rename): a crash mid-write leaves the previous state. */
export function saveState(path: string, state: ImportState): void {
  state.updated_at = new Date().toISOString();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}

/**
 * Deterministic per run, file content, batch size and batch: within a run (resumed any number of
 * times) the same batch always gets the same key; another run gets other keys.
 */
export function batchKey(
  sha256: string,
  batchSize: number,
  index: number,
  firstLine: number,
  runId?: string,
): string {
  const run = runId ? `${runId}:` : '';
  return `genesis-import:${sha256.slice(0, 32)}:${run}${batchSize}:${index}:L${firstLine}`;
}
