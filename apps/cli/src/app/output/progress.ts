import type { Output } from './output';
import { bar, duration } from './format';

/**
 * Progress on stderr: a redrawn bar on a terminal, otherwise a plain line at the first update and
 * then at most every `intervalMs` (logs and CI output stay readable).
 */
export class Progress {
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private current: number;

  constructor(
    private readonly out: Output,
    private readonly label: string,
    private readonly total: number,
    private readonly intervalMs = 5000,
    /** Work already done before this run (a resumed import): not counted in the rate. */
    private readonly initial = 0,
  ) {
    this.current = initial;
  }

  update(done: number, detail = ''): void {
    this.current = done;
    const now = Date.now();
    if (this.out.interactive) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.out.stderr.write(`\r\x1b[K${this.text(detail, true)}`);
      this.drawn = true;
    } else {
      if (this.lastDraw !== 0 && now - this.lastDraw < this.intervalMs && done < this.total) return;
      this.out.note(this.text(detail, false));
    }
    this.lastDraw = now;
  }

  /** A line that does not garble the bar (retries, warnings). */
  note(text: string): void {
    this.clear();
    this.out.note(text);
  }

  /** Removes the bar (the summary goes to stdout afterwards). */
  clear(): void {
    if (this.drawn) this.out.stderr.write('\r\x1b[K');
    this.drawn = false;
    this.lastDraw = 0;
  }

  private text(detail: string, withBar: boolean): string {
    const fraction = this.total > 0 ? this.current / this.total : 1;
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const rate = elapsed > 0 ? (this.current - this.initial) / elapsed : 0;
    const eta =
      rate > 0 && this.current < this.total
        ? `, ETA ${duration(Math.max(1000, ((this.total - this.current) / rate) * 1000))}`
        : '';
    const counts = `${this.current.toLocaleString('en')}/${this.total.toLocaleString('en')}`;
    const percent = `${Math.floor(fraction * 100)}%`;
    const speed = rate > 0 ? `, ${Math.round(rate).toLocaleString('en')}/s` : '';
    const tail = `${detail ? `, ${detail}` : ''}${speed}${eta}`;
    return withBar
      ? `${this.label} ${bar(fraction)} ${percent} ${counts}${tail}`
      : `${this.label}: ${counts} (${percent})${tail}`;
  }
}
