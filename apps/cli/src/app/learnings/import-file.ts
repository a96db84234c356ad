import { createHash } from 'node:crypto';
import { InterruptedError } from '../errors';
import type { ImportState } from './import-state';
import { parseLine, readLines } from './jsonl';

/** A batch is also cut at this many bytes, well under the gateway's default 16 MiB body limit. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Invalid lines kept for the report (all are counted). */
const KEPT_INVALID = 1000;

export interface Scan {
  sha256: string;
  size: number;
  lines: number;
  learnings: number;
  blank: number;
  invalidCount: number;
  invalid: { line: number; problem: string }[];
}

export interface Batch {
  index: number;
  learnings: Record<string, unknown>[];
  /** The line number of each learning, in order (to report the gateway's problems by line). */
  lines: number[];
  firstLine: number;
  lastLine: number;
  /** Where the batch after this one starts. */
  next: { offset: number; line: number };
  invalidSkipped: number;
}

/** Pass 1: the file's sha256 and every line checked, before anything is sent. */
export async function scanFile(file: string, signal: AbortSignal): Promise<Scan> {
  const hash = createHash('sha256');
  const scan: Scan = { sha256: '', size: 0, lines: 0, learnings: 0, blank: 0, invalidCount: 0, invalid: [] };
  const onChunk = (chunk: Buffer) => {
    hash.update(chunk);
    scan.size += chunk.length;
  };
  for await (const line of readLines(file, undefined, onChunk)) {
    if (signal.aborted) throw new InterruptedError();
    scan.lines = line.number;
    const parsed = parseLine(line);
    if (parsed.kind === 'learning') scan.learnings++;
    else if (parsed.kind === 'blank') scan.blank++;
    else {
      scan.invalidCount++;
      if (scan.invalid.length < KEPT_INVALID)
        scan.invalid.push({ line: line.number, problem: parsed.problem });
    }
  }
  scan.sha256 = hash.digest('hex');
  return scan;
}

/**
 * Pass 2: the batches from the state's position on. Their boundaries depend only on the file and
 * the batch size, so a resumed import cuts exactly the batches (and keys) an uninterrupted one would.
 */
export async function* batches(file: string, state: ImportState): AsyncGenerator<Batch> {
  let index = state.batches_acknowledged;
  let batch = emptyBatch(index, state.next_line);
  let bytes = 0;
  for await (const line of readLines(file, { offset: state.next_offset, line: state.next_line })) {
    const parsed = parseLine(line);
    batch.next = { offset: line.end, line: line.number + 1 };
    if (parsed.kind === 'blank') continue;
    if (parsed.kind === 'invalid') {
      batch.invalidSkipped++; // only reached with --skip-invalid: the scan stops the import otherwise
      continue;
    }
    batch.learnings.push(parsed.value);
    batch.lines.push(line.number);
    batch.lastLine = line.number;
    bytes += parsed.size;
    if (batch.learnings.length >= state.batch_size || bytes >= MAX_BATCH_BYTES) {
      yield batch;
      batch = emptyBatch(++index, line.number + 1);
      bytes = 0;
    }
  }
  if (batch.learnings.length > 0) yield batch;
}

function emptyBatch(index: number, firstLine: number): Batch {
  return {
    index,
    learnings: [],
    lines: [],
    firstLine,
    lastLine: firstLine,
    next: { offset: 0, line: firstLine },
    invalidSkipped: 0,
  };
}
