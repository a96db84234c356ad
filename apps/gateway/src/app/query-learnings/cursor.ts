import { ProblemError } from '../problem/problem';

/** Keyset pagination over (captured_at DESC, id DESC): stable while new learnings arrive. */
export interface Cursor {
  capturedAt: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.capturedAt, c.id])).toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  try {
    const [capturedAt, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as [string, string];
    if (Number.isNaN(Date.parse(capturedAt)) || !/^[0-9a-f-]{36}$/i.test(id)) throw new Error('shape');
    return { capturedAt, id };
  } catch {
    throw new ProblemError(400, 'INVALID_CURSOR', 'Bad request', 'cursor is not one this API returned');
  }
}
