import { DEFAULT_MODEL_ID } from '@genesis/contracts';
import { ProblemError, problems } from '../problem/problem';

const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `?model_id=` (or a body field): defaults to the default model, refuses anything malformed. */
export function modelIdParam(value: unknown, where = 'model_id'): string {
  if (value === undefined || value === null || value === '') return DEFAULT_MODEL_ID;
  if (typeof value !== 'string' || !MODEL_ID.test(value)) {
    // A body field (named by its JSON Pointer) is a body problem, as every other field's is; a
    // query or path parameter is the query's.
    if (where.startsWith('/'))
      throw problems.validation(`${where} must match ${MODEL_ID.source}`, [
        { path: where, message: `must match ${MODEL_ID.source}` },
      ]);
    throw new ProblemError(400, 'INVALID_QUERY', 'Bad request', `${where} must match ${MODEL_ID.source}`);
  }
  return value;
}
