// Deterministic synthetic documents for benchmarks: sentences drawn from a fixed word list with a seeded
// generator, so every run (and every peer in a side-by-side comparison) embeds exactly the same inputs.

const WORDS = (
  'the of and to in is was for on that with as by at from his an were are which this be has or had first one their ' +
  'its new after who they have her she two been other when there all during into school time may years more most ' +
  'only over city some world would where later up such used many can state about national out known university ' +
  'united then made century between both early three system government under series including well team high ' +
  'embedding server batch token model query passage vector search index cluster retrieval language neural fast'
).split(' ');

/** mulberry32: a tiny seeded PRNG, good enough to pick words reproducibly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` texts of about `numWords` words each (a BERT WordPiece tokenizer gives ~1.1-1.3 tokens per word here). */
export function syntheticTexts(count: number, numWords: number, seed = 1234): string[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => Array.from({ length: numWords }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' '));
}
