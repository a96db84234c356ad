/** The CLI's exit statuses, stable for scripts (README, "The genesis CLI"). */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** The gateway refused the request (problem+json), or the operation failed (a failed rollback or cycle). */
  failed: 1,
  /** Bad command line or bad input (unknown flag, missing argument, invalid lines in an import file). */
  usage: 2,
  /** The gateway could not be reached (connection refused, DNS, no answer in time). */
  unreachable: 3,
  /** No API key, an unknown key (401), or a key without the scope the command needs (403). */
  auth: 4,
  /** Gave up waiting (`rollback --timeout`, `cycles --watch --timeout`). */
  timeout: 5,
  /** Interrupted by Ctrl-C before the work was done (an import can be resumed by running it again). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
