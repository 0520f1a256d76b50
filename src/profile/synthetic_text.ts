// Synthetic texts of an exact token length for the model's own tokenizer. AIPerf slices a tokenized corpus
// and decodes it; decoding is not always the inverse of encoding (WordPiece "##" pieces, byte-level merges),
// so instead we draw words that are a single token both at the start of a text and after a space, which
// makes "n words" mean "n tokens" for WordPiece, BPE and Unigram alike, and then verify the count.
import type { SeededRandom } from './rng.js';
import type { TokenCounter } from './tokenizer_loader.js';

// Common English words: present as whole tokens in the vocabularies of BERT, GPT-2/Qwen style BPE and most
// SentencePiece models. Ones a given tokenizer splits are dropped when the generator is built.
const COMMON_WORDS = `the of and to in is that for it as was with be by on not he this are or his from at which but have
an they you were her she there one all we their has been if more when will would who so no out up into
do can said them some could time these two may first then other than its only new about also after
any work people over such make way well year years made very many most good must just through back
where much before those right should because each life under same great world while three long day house
end state found still part place high last might people never old another between home small come point
water down city war own fact few form light line name number order power road room school side sound
story system table thing group hand head help land level music night open paper play rate river show
south north east west study test town tree week white black word young air area art bank bed bird blue
body book box boy car case cause child class cold color course dark data door dog earth eye face family
farm field fire fish floor food force friend game girl glass gold green ground heart horse hour idea
island key king lake law letter list love man market money month morning mother mountain mouth page party
peace plan plant price question rain record red rest rock sea season ship shop sky snow song space
stone street sun table team term text top train travel wall wind window winter wood voice value view`
  .split(/\s+/)
  .filter(Boolean);

export class SyntheticTextGenerator {
  private readonly words: readonly string[];

  constructor(
    private readonly counter: TokenCounter,
    private readonly rng: SeededRandom,
  ) {
    const singleTokenWords = [...new Set(COMMON_WORDS)].filter((word) => counter.countTokens(`${word} ${word}`) === 2);
    // A tokenizer that splits every common word (character-level, exotic vocabularies) still works:
    // the length search below then does the exact sizing, only with more tokenizer calls.
    this.words = singleTokenWords.length >= 20 ? singleTokenWords : [...new Set(COMMON_WORDS)];
  }

  private randomWords(count: number): string[] {
    const picked: string[] = [];
    for (let i = 0; i < count; i++) picked.push(this.words[this.rng.nextInt(this.words.length)]!);
    return picked;
  }

  /** A text of exactly `numTokens` tokens when the tokenizer allows it; otherwise the closest length found. */
  generate(numTokens: number): { text: string; numTokens: number } {
    if (numTokens < 1) throw new RangeError(`a synthetic text needs at least 1 token, asked for ${numTokens}`);
    const words = this.randomWords(numTokens);
    const direct = words.join(' ');
    const directCount = this.counter.countTokens(direct);
    if (directCount === numTokens) return { text: direct, numTokens };

    // Multi-token words: grow the word list until it is long enough, then binary-search the prefix length
    // whose token count is the closest to the target (token count grows monotonically with whole words).
    while (this.counter.countTokens(words.join(' ')) < numTokens) words.push(...this.randomWords(numTokens));
    let low = 1;
    let high = words.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.counter.countTokens(words.slice(0, middle).join(' ')) < numTokens) low = middle + 1;
      else high = middle;
    }
    const atOrAbove = words.slice(0, low).join(' ');
    const atOrAboveCount = this.counter.countTokens(atOrAbove);
    if (atOrAboveCount === numTokens || low === 1) return { text: atOrAbove, numTokens: atOrAboveCount };
    const below = words.slice(0, low - 1).join(' ');
    const belowCount = this.counter.countTokens(below);
    return numTokens - belowCount <= atOrAboveCount - numTokens ? { text: below, numTokens: belowCount } : { text: atOrAbove, numTokens: atOrAboveCount };
  }
}
