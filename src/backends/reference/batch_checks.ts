// Validation of a RaggedBatch before the reference backend computes anything, so a malformed batch gives one
// clear error instead of a NaN row or an out-of-bounds read deep inside an op.
// Structural mistakes (array lengths, offsets) are engine bugs: RangeError (a 500 at the edge). Values a client
// can influence (token ids sent as arrays, sequences longer than the model, bad `dimensions`) are
// InvalidRequestError (a 400).
import { InvalidRequestError } from '../../errors.js';
import type { BertConfig } from '../../model/types.js';
import type { RaggedBatch } from '../backend.js';

function checkRange(values: Int32Array, limit: number, what: string, param: string, hint: string): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= limit) {
      throw new InvalidRequestError(`${what} ${values[i]} at batch token ${i} is outside [0, ${limit}) ${hint}`, param);
    }
  }
}

/** Throws unless `batch` is a well-formed ragged batch this BERT config can run. Returns the sequence count. */
export function checkBertBatch(batch: RaggedBatch, config: BertConfig): number {
  const { tokenIds, positions, tokenTypeIds, cuSeqLens, dimensions, normalize } = batch;
  const numTokens = tokenIds.length;
  if (cuSeqLens.length < 2) throw new RangeError('ragged batch: cuSeqLens needs at least 2 entries (one sequence)');
  const numSequences = cuSeqLens.length - 1;
  if (cuSeqLens[0] !== 0 || cuSeqLens[numSequences] !== numTokens) {
    throw new RangeError(`ragged batch: cuSeqLens must run from 0 to ${numTokens} tokens, got ${cuSeqLens[0]}..${cuSeqLens[numSequences]}`);
  }
  for (let i = 0; i < numSequences; i++) {
    if (cuSeqLens[i + 1] <= cuSeqLens[i]) throw new RangeError(`ragged batch: sequence ${i} is empty or cuSeqLens decreases`);
  }
  if (positions.length !== numTokens) throw new RangeError(`ragged batch: ${positions.length} positions for ${numTokens} tokens`);
  if (tokenTypeIds !== undefined && tokenTypeIds.length !== numTokens) {
    throw new RangeError(`ragged batch: ${tokenTypeIds.length} token type ids for ${numTokens} tokens`);
  }
  if (dimensions.length !== numSequences || normalize.length !== numSequences) {
    throw new RangeError(`ragged batch: dimensions/normalize must have one entry per sequence (${numSequences})`);
  }
  checkRange(tokenIds, config.vocabSize, 'token id', 'input', `(vocab_size ${config.vocabSize})`);
  checkRange(positions, config.maxPositionEmbeddings, 'position', 'input', `(max_position_embeddings ${config.maxPositionEmbeddings}: input too long)`);
  if (tokenTypeIds !== undefined) checkRange(tokenTypeIds, config.typeVocabSize, 'token type id', 'input', `(type_vocab_size ${config.typeVocabSize})`);
  for (let i = 0; i < numSequences; i++) {
    if (dimensions[i] < 0 || dimensions[i] > config.hiddenSize) {
      throw new InvalidRequestError(`dimensions ${dimensions[i]} is outside [1, ${config.hiddenSize}] for this model`, 'dimensions');
    }
  }
  return numSequences;
}
