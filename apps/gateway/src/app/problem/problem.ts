/** An error that becomes an RFC 9457 problem+json response with a stable `code`. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

/** The most validation errors one problem lists. */
export const MAX_ERRORS = 50;

export const problems = {
  unauthorized: (detail: string) =>
    new ProblemError(
      401,
      'UNAUTHORIZED',
      'Authentication required',
      detail,
      {},
      { 'www-authenticate': 'Bearer' },
    ),
  forbidden: (scope: string) =>
    new ProblemError(403, 'FORBIDDEN', 'Missing scope', `this API key lacks the "${scope}" scope`),
  // At most MAX_ERRORS are listed (errors_total counts them all): a small body with thousands of bad
  // keys must not buy a response many times its size.
  validation: (detail: string, errors: { path: string; message: string }[]) =>
    new ProblemError(422, 'VALIDATION_FAILED', 'The request body is invalid', detail, {
      errors: errors.slice(0, MAX_ERRORS),
      ...(errors.length > MAX_ERRORS ? { errors_total: errors.length } : {}),
    }),
  notFound: (code: string, detail: string) => new ProblemError(404, code, 'Not found', detail),
  rateLimited: (retryAfterS: number) =>
    new ProblemError(
      429,
      'RATE_LIMITED',
      'Too many requests',
      `rate limit exceeded; retry in ${retryAfterS}s`,
      {},
      { 'retry-after': String(retryAfterS) },
    ),
  unavailable: (detail: string) =>
    new ProblemError(503, 'BUS_UNAVAILABLE', 'Service unavailable', detail, {}, { 'retry-after': '1' }),
};
