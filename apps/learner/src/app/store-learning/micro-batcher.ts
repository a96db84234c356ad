/**
 * Groups concurrent submissions into one call of `run` (up to `maxSize` items, or whatever arrived
 * within `maxWaitMs`). The learner uses it to write many learnings in one transaction: one commit
 * (one WAL flush) for a batch instead of one per learning.
 */
export class MicroBatcher<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly maxSize = 100,
    private readonly maxWaitMs = 2,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0, this.maxSize);
    if (batch.length === 0) return;
    this.run(batch.map((b) => b.item)).then(
      (results) => batch.forEach((b, i) => b.resolve(results[i]!)),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
    if (this.pending.length > 0) this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
  }
}
