/**
 * Which of many lower-case keywords occur in a text, in one pass (Aho-Corasick). Rules with keywords run
 * only on texts that contain one of them, as gitleaks does; with ~250 keywords one pass over the text costs
 * less than a single `includes` per keyword would.
 */
export class KeywordIndex {
  private readonly goto: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  private readonly out: number[][] = [[]];

  constructor(private readonly keywords: readonly string[]) {
    keywords.forEach((keyword, k) => {
      let state = 0;
      for (let i = 0; i < keyword.length; i++) {
        const c = keyword.charCodeAt(i);
        let next = this.goto[state]!.get(c);
        if (next === undefined) {
          next = this.goto.length;
          this.goto.push(new Map());
          this.fail.push(0);
          this.out.push([]);
          this.goto[state]!.set(c, next);
        }
        state = next;
      }
      this.out[state]!.push(k);
    });
    const queue: number[] = [...this.goto[0]!.values()];
    while (queue.length > 0) {
      const state = queue.shift()!;
      for (const [c, next] of this.goto[state]!) {
        queue.push(next);
        let f = this.fail[state]!;
        while (f !== 0 && !this.goto[f]!.has(c)) f = this.fail[f]!;
        const target = this.goto[f]!.get(c);
        this.fail[next] = target !== undefined && target !== next ? target : 0;
        this.out[next]!.push(...this.out[this.fail[next]!]!);
      }
    }
  }

  /** The keywords (as given) found in `lowerText`, which the caller has lower-cased. */
  found(lowerText: string): Set<string> {
    const hits = new Set<string>();
    let state = 0;
    for (let i = 0; i < lowerText.length; i++) {
      const c = lowerText.charCodeAt(i);
      while (state !== 0 && !this.goto[state]!.has(c)) state = this.fail[state]!;
      state = this.goto[state]!.get(c) ?? 0;
      for (const k of this.out[state]!) hits.add(this.keywords[k]!);
    }
    return hits;
  }
}
