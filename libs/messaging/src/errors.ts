/**
 * Thrown by a handler for a message that can never succeed (schema-invalid, impossible state):
 * the runner sends it to the DLQ with this reason and terminates it instead of retrying.
 */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}
