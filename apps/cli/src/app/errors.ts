import { EXIT, type ExitCode } from './exit-codes';

/** An error that ends the command with `exitCode`; `details` is what `--json` prints as `{"error": …}`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage, { code: 'USAGE' });
  }
}

/** The request was aborted by Ctrl-C. */
export class InterruptedError extends CliError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted, { code: 'INTERRUPTED' });
  }
}
