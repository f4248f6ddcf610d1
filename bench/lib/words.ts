/**
 * Message bodies that look like chat: words drawn from a fixed vocabulary with a Zipf-like
 * distribution, so a few words are in a large share of messages (common search terms) and most
 * are rare (selective ones). Seeded, so every run and every database is the same.
 */

/** A small, fast, seeded PRNG (mulberry32): returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = (
  "the to and a i you it is of for in on that we this can be have with will at are do so just not " +
  "me my our if what but about get lunch meeting today tomorrow report client project please thanks " +
  "ok yes no sure check send call review update time team plan build deploy test fix issue release " +
  "week monday friday morning afternoon invoice hours budget design draft doc notes agenda office"
).split(" ");
const SYLLABLES = "ka lo mi ne ru sa ti vo be da fe gi ho ju ku la ma no pe ri so tu ve wa xi yo ze".split(
  " ",
);

/** `size` distinct words: common English chat words first, then made-up ones (rarer and rarer). */
export function vocabulary(size: number): string[] {
  const words = [...COMMON];
  const seen = new Set(words);
  const random = rng(7);
  while (words.length < size) {
    const n = 2 + Math.floor(random() * 3);
    let w = "";
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words.slice(0, size);
}

/** Draws words by rank with probability ∝ 1/(rank + 1)^s. */
export class WordSampler {
  readonly words: string[];
  private readonly cdf: Float64Array;

  constructor(size: number, s = 1.0) {
    this.words = vocabulary(size);
    this.cdf = new Float64Array(size);
    let total = 0;
    for (let i = 0; i < size; i++) {
      total += 1 / (i + 1) ** s;
      this.cdf[i] = total;
    }
    for (let i = 0; i < size; i++) this.cdf[i]! /= total;
  }

  word(random: () => number): string {
    const x = random();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return this.words[lo]!;
  }

  body(random: () => number, words: number): string {
    const parts: string[] = [];
    for (let i = 0; i < words; i++) parts.push(this.word(random));
    return parts.join(" ");
  }
}
