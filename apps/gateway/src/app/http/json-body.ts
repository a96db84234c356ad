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
  const issue = text.includes('\\u') ? findUnstorableText(parsed) : undefined;
  if (issue) {
    throw new ProblemError(400, 'INVALID_TEXT', 'Bad request', `${issue.path} ${issue.message}`, {
      errors: [issue],
    });
  }
  return parsed;
}

/**
 * JSON bodies are parsed from raw bytes: invalid UTF-8 is refused (the default parser would turn
 * it into U+FFFD silently, and that text would become training data).
 */
export function installStrictJsonParser(app: NestFastifyApplication, bodyLimit: number): void {
  // The API speaks JSON only; anything else is a 415, not a string handed to validation.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  app.useBodyParser('application/json', { bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseStrictJson(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
