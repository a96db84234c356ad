import { UUID } from '../http/query-params';
import { ProblemError } from '../problem/problem';

/** Keyset pagination over (captured_at DESC, id DESC): stable while new learnings arrive. */
export interface Cursor {
  capturedAt: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.capturedAt, c.id])).toString('base64url');
}

export function decodeCursor(value: string): { capturedAt: Date; id: string } {
  const refused = new ProblemError(
    400,
    'INVALID_CURSOR',
    'Bad request',
    'cursor is not one this API returned',
  );
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  // Exactly what encodeCursor writes: an ISO time toISOString() produced, and a UUID. Anything
  // looser reached Postgres (a year it cannot hold, a 36-dash "uuid") and came back as a 500.
  if (!Array.isArray(decoded) || decoded.length !== 2) throw refused;
  const [capturedAt, id] = decoded as unknown[];
  if (typeof capturedAt !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw refused;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(capturedAt)) throw refused;
  const time = new Date(capturedAt);
  if (Number.isNaN(time.getTime())) throw refused;
  return { capturedAt: time, id };
}
