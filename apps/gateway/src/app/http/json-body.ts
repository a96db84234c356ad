import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { findUnstorableText } from '@genesis/contracts';
import { ProblemError } from '../problem/problem';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and parses a JSON body; invalid UTF-8, malformed JSON and text that cannot be stored
 * (U+0000 or an unpaired surrogate, both only expressible as `\u` escapes) are 400s with stable codes.
 */
export function parseStrictJson(body: Buffer): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw new ProblemError(400, 'INVALID_UTF8', 'Bad request', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new ProblemError(400, 'MALFORMED_JSON', 'Bad request', 'the body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ProblemError(
      400,
      'MALFORMED_JSON',
      'Bad request',
      `the body is not valid JSON: ${(err as Error).message}`,
    );
  }
  // Before anything walks the value recursively (the text check below, validation, fingerprints).
  const bound = jsonBoundsProblem(parsed);
  if (bound) throw bound;
  const issue = text.includes('\\u') ? findUnstorableText(parsed) : undefined;
  if (issue) {
    throw new ProblemError(400, 'INVALID_TEXT', 'Bad request', `${issue.path} ${issue.message}`, {
      errors: [issue],
    });
  }
  return parsed;
}

/** No API body nests deeper than a few levels; this bound leaves room and keeps recursion safe. */
export const MAX_JSON_DEPTH = 32;
/** Object keys: field names, and metadata keys (the learning schema allows 256 characters). */
export const MAX_KEY_LENGTH = 256;

/**
 * The first bound a parsed body breaks: nesting deeper than MAX_JSON_DEPTH (400 JSON_TOO_DEEP; 5,000
 * nested arrays once overflowed the stack of a recursive check), or a key longer than MAX_KEY_LENGTH
 * (400 KEY_TOO_LONG; a 1 MiB metadata key once came back as a retryable 503). Iterative, so it is
 * safe on any input `JSON.parse` accepts.
 */
export function jsonBoundsProblem(value: unknown): ProblemError | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      return new ProblemError(
        400,
        'JSON_TOO_DEEP',
        'Bad request',
        `the body nests deeper than ${MAX_JSON_DEPTH} levels`,
      );
    }
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
      continue;
    }
    for (const [key, item] of Object.entries(v)) {
      if (key.length > MAX_KEY_LENGTH) {
        return new ProblemError(
          400,
          'KEY_TOO_LONG',
          'Bad request',
          `an object key is ${key.length} characters long; at most ${MAX_KEY_LENGTH} are allowed`,
        );
      }
      if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

/**
 * JSON bodies are parsed from raw bytes: invalid UTF-8 is refused (the default parser would turn
 * it into U+FFFD silently, and that text would become training data).
 */
export function installStrictJsonParser(app: NestFastifyApplication, bodyLimit: number): void {
  // The API speaks JSON only: no text/plain, no URL-encoded forms (which bypassed this parser and
  // its checks); any other type is a 415 (http/edge-hooks.ts refuses it before the body is read).
  // Nest's own parsers stay off (bootstrapService's bodyParser: false).
  app.getHttpAdapter().getInstance().removeAllContentTypeParsers();
  app.useBodyParser('application/json', { bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseStrictJson(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
