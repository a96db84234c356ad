/** The CLI's own styles (bold, dim, their reset): the only escape sequences human output keeps. */
// eslint-disable-next-line no-control-regex -- the CLI's own escape sequence is what it matches
const OWN_STYLE = /\x1b\[(?:1|2|22)m/y;
/**
 * What a terminal would act on rather than show: C0 controls but newline and tab, DEL, C1 controls
 * (0x9b is a one-byte CSI) and the bidirectional overrides and isolates that reorder what is shown.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/**
 * Text from the API (a family's base model, a task's reason, a learning, a problem's detail) as a
 * terminal should show it: every control character written out as `\u001b`-style text. Without it
 * a stored ESC sequence could clear the screen, rewrite earlier lines, set the window title or put
 * text on the clipboard (OSC 52) of whoever runs `genesis`; --json output is JSON-escaped already.
 */
export function printable(text: string): string {
  if (!UNPRINTABLE.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    OWN_STYLE.lastIndex = i;
    const own = OWN_STYLE.exec(text);
    if (own) {
      out += own[0];
      i += own[0].length - 1;
      continue;
    }
    const c = text[i]!;
    out += UNPRINTABLE.test(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c;
  }
  return out;
}

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
    if (!this.json) this.stdout.write(`${printable(text)}\n`);
  }

  /** Machine output: one JSON document on one line. */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Notes, progress and warnings: stderr, whatever the mode. */
  note(text: string): void {
    this.stderr.write(`${printable(text)}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`genesis: warning: ${printable(text)}\n`);
  }

  error(text: string): void {
    this.stderr.write(`genesis: error: ${printable(text)}\n`);
  }

  bold(text: string): string {
    return this.color ? `\x1b[1m${text}\x1b[22m` : text;
  }

  dim(text: string): string {
    return this.color ? `\x1b[2m${text}\x1b[22m` : text;
  }
}
