/**
 * Which of many lower-case ASCII keywords occur in a text, in one pass: an Aho-Corasick automaton
 * compiled to a dense table over ASCII (one array lookup per character; any other character restarts
 * the match). Rules with keywords run only on texts that contain one of them, as gitleaks does; with
 * ~300 keywords one pass costs less than a single `includes` per keyword would.
 */
export class KeywordIndex {
  private readonly next: Int32Array;
  /** Per state, the keywords (by index) that end there. */
  private readonly out: number[][];

  constructor(private readonly keywords: readonly string[]) {
    for (const k of keywords) {
      if (k.length === 0 || [...k].some((c) => c.charCodeAt(0) > 127))
        throw new Error(`keyword is not ASCII: ${k}`);
    }
    const trie: Array<Map<number, number>> = [new Map()];
    const out: number[][] = [[]];
    keywords.forEach((keyword, k) => {
      let state = 0;
      for (let i = 0; i < keyword.length; i++) {
        const c = keyword.charCodeAt(i);
        let to = trie[state]!.get(c);
        if (to === undefined) {
          to = trie.length;
          trie.push(new Map());
          out.push([]);
          trie[state]!.set(c, to);
        }
        state = to;
      }
      out[state]!.push(k);
    });
    // Breadth first: each state's transitions are its trie edges, else its failure state's transitions.
    const next = new Int32Array(trie.length * 128);
    const fail = new Int32Array(trie.length);
    const queue: number[] = [];
    for (const [c, to] of trie[0]!) {
      next[c] = to;
      queue.push(to);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      out[state]!.push(...out[fail[state]!]!);
      for (let c = 0; c < 128; c++) {
        const to = trie[state]!.get(c);
        if (to === undefined) next[state * 128 + c] = next[fail[state]! * 128 + c]!;
        else {
          next[state * 128 + c] = to;
          fail[to] = next[fail[state]! * 128 + c]!;
          queue.push(to);
        }
      }
    }
    this.next = next;
    this.out = out;
  }

  /** The keywords (as given) found in `lowerText`, which the caller has lower-cased. */
  found(lowerText: string): Set<string> {
    const hits = new Set<string>();
    let state = 0;
    for (let i = 0; i < lowerText.length; i++) {
      const c = lowerText.charCodeAt(i);
      state = c < 128 ? this.next[state * 128 + c]! : 0;
      const ends = this.out[state]!;
      for (let k = 0; k < ends.length; k++) hits.add(this.keywords[ends[k]!]!);
    }
    return hits;
  }
}
