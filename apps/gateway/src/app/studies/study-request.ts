import { problems } from '../problem/problem';

/** The body of `POST /api/v1/models/{id}/studies`: every field optional (defaults: the bridge's). */
export interface StudyRequest {
  budget?: { trials?: number; worker_seconds?: number; parallelism?: number };
  reason?: string;
}

export interface ParsedStudyRequest {
  budget: { trials?: number; worker_seconds?: number; parallelism?: number };
  reason?: string;
}

// parallelism: trials of the study in flight at once (ADR 0025), each a job of its own
const LIMITS = { trials: [1, 500], worker_seconds: [1, 31_536_000], parallelism: [1, 64] } as const;

/** Validates a study request; every problem is named by its JSON pointer (problem+json 422). */
export function parseStudyRequest(body: unknown): ParsedStudyRequest {
  const errors: { path: string; message: string }[] = [];
  const input = (body ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw problems.validation('the body, when present, is {"budget"?: {...}, "reason"?: string}', [
      { path: '/', message: 'must be an object' },
    ]);
  }
  for (const key of Object.keys(input)) {
    if (key !== 'budget' && key !== 'reason') errors.push({ path: `/${key}`, message: 'unknown field' });
  }
  const budget: ParsedStudyRequest['budget'] = {};
  if (input['budget'] !== undefined) {
    const b = input['budget'] as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      errors.push({ path: '/budget', message: 'must be an object' });
    } else {
      for (const key of Object.keys(b)) {
        if (!(key in LIMITS)) {
          errors.push({ path: `/budget/${key}`, message: 'unknown field' });
          continue;
        }
        const [min, max] = LIMITS[key as keyof typeof LIMITS];
        const value = b[key];
        const integer = key !== 'worker_seconds';
        if (
          typeof value !== 'number' ||
          !Number.isFinite(value) ||
          (integer && !Number.isInteger(value)) ||
          value < min ||
          value > max
        ) {
          errors.push({
            path: `/budget/${key}`,
            message: `must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}`,
          });
        } else {
          budget[key as keyof typeof LIMITS] = value;
        }
      }
    }
  }
  const reason = input['reason'];
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000)) {
    errors.push({ path: '/reason', message: 'must be a string of at most 1000 characters' });
  }
  if (errors.length) throw problems.validation('invalid study request', errors);
  return { budget, ...(typeof reason === 'string' ? { reason } : {}) };
}
