import { printable, type Output } from './output';

/**
 * A block of lines redrawn in place (`--watch`) on a terminal: the previous block is erased first.
 * Lines are cut to the terminal's width so that wrapping cannot break the line count.
 */
export class Screen {
  private shown = 0;

  constructor(private readonly out: Output) {}

  draw(lines: string[]): void {
    const width = Math.max(20, this.out.width - 1);
    const cut = lines.map(printable).map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    const erase = this.shown > 0 ? `\x1b[${this.shown}F\x1b[J` : '';
    this.out.stdout.write(`${erase}${cut.join('\n')}\n`);
    this.shown = cut.length;
  }
}
