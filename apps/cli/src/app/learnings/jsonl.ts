import { createReadStream } from 'node:fs';
import { learningProblem } from './learning-check';

/** Longer lines are invalid (a learning is at most ~100 KB); also bounds the memory one line takes. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export interface RawLine {
  /** 1-based line number. */
  number: number;
  /** Byte offsets: where the line starts, and where the next one starts. */
  start: number;
  end: number;
  /** The line without its \n; undefined when longer than MAX_LINE_BYTES. */
  bytes: Buffer | undefined;
}

export interface Position {
  offset: number;
  line: number;
}

/**
 * The lines of a file from a byte offset on, with their offsets (readline cannot tell those, and
 * resuming an import needs them). `onChunk` sees every byte read, e.g. to hash the file.
 */
export async function* readLines(
  path: string,
  from: Position = { offset: 0, line: 1 },
  onChunk?: (chunk: Buffer) => void,
): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  let lineStart = from.offset;
  let pos = from.offset;
  let number = from.line;
  for await (const chunk of createReadStream(path, {
    start: from.offset,
    highWaterMark: 1 << 20,
  }) as AsyncIterable<Buffer>) {
    onChunk?.(chunk);
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl === -1 ? chunk.length : nl;
      if (!tooLong && length + (end - i) > MAX_LINE_BYTES) {
        tooLong = true;
        parts = [];
      }
      if (!tooLong) {
        parts.push(chunk.subarray(i, end));
        length += end - i;
      }
      pos += end - i;
      if (nl === -1) break;
      pos += 1;
      yield {
        number: number++,
        start: lineStart,
        end: pos,
        bytes: tooLong ? undefined : Buffer.concat(parts, length),
      };
      parts = [];
      length = 0;
      tooLong = false;
      lineStart = pos;
      i = nl + 1;
    }
  }
  if (pos > lineStart) {
    yield { number, start: lineStart, end: pos, bytes: tooLong ? undefined : Buffer.concat(parts, length) };
  }
}

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'learning'; value: Record<string, unknown>; size: number }
  | { kind: 'invalid'; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One line of the import file: blank, a valid learning, or invalid with the reason. */
export function parseLine(line: RawLine): ParsedLine {
  if (line.bytes === undefined) return { kind: 'invalid', problem: `longer than ${MAX_LINE_BYTES} bytes` };
  let text: string;
  try {
    text = utf8.decode(line.bytes);
  } catch {
    return { kind: 'invalid', problem: 'not valid UTF-8' };
  }
  if (line.number === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
  if (text.trim() === '') return { kind: 'blank' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', problem: `not valid JSON (${(err as Error).message})` };
  }
  const problem = learningProblem(value);
  if (problem) return { kind: 'invalid', problem };
  return { kind: 'learning', value: value as Record<string, unknown>, size: line.bytes.length };
}
