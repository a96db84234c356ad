export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Where a command writes. With --json, stdout carries JSON only (one document, or one per line for
 * streams) and everything meant for people goes to stderr.
 */
export class Output {
  constructor(
    readonly stdout: Stream,
    readonly stderr: Stream,
    readonly json: boolean,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  /** stderr is a terminal: progress bars and redraws instead of plain lines. */
  get interactive(): boolean {
    return this.stderr.isTTY === true && this.env['TERM'] !== 'dumb';
  }

  /** stdout is a terminal that may be redrawn (`--watch`). */
  get redrawable(): boolean {
    return !this.json && this.stdout.isTTY === true && this.env['TERM'] !== 'dumb';
  }

  get color(): boolean {
    return this.stdout.isTTY === true && this.env['NO_COLOR'] === undefined && this.env['TERM'] !== 'dumb';
  }

  get width(): number {
    return this.stdout.columns || 100; // 0 when the terminal does not say
  }

  /** Human output: a line on stdout (nothing with --json). */
  line(text = ''): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** Machine output: one JSON document on one line. */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Notes, progress and warnings: stderr, whatever the mode. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`genesis: warning: ${text}\n`);
  }

  error(text: string): void {
    this.stderr.write(`genesis: error: ${text}\n`);
  }

  bold(text: string): string {
    return this.color ? `\x1b[1m${text}\x1b[22m` : text;
  }

  dim(text: string): string {
    return this.color ? `\x1b[2m${text}\x1b[22m` : text;
  }
}
