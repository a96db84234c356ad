import { ProblemError } from '../problem/problem';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function badQuery(detail: string): ProblemError {
  return new ProblemError(400, 'INVALID_QUERY', 'Bad request', detail);
}

/** `?limit=`: an integer from 1 to `max`, `fallback` when absent. */
export function limitParam(value: string | undefined, fallback = 50, max = 500): number {
  const limit = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw badQuery(`limit must be an integer from 1 to ${max}`);
  return limit;
}
