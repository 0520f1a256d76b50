// Validation of a RaggedBatch before a backend computes anything, so a malformed batch gives one clear error
// (the same from every backend) instead of a NaN row or an out-of-bounds read deep inside an op or kernel.
// Structural mistakes (array lengths, offsets) are engine bugs: RangeError (a 500 at the edge). Values a client
// can influence (token ids sent as arrays, sequences longer than the model, bad `dimensions`) are
// InvalidRequestError (a 400).
import { InvalidRequestError } from '../errors.js';
import type { RaggedBatch } from './batch_types.js';

function checkRange(values: Int32Array, limit: number, what: string, param: string, hint: string): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= limit) {
      throw new InvalidRequestError(`${what} ${values[i]} at batch token ${i} is outside [0, ${limit}) ${hint}`, param);
    }
  }
}

/** What checkDecoderBatch reads of a config (every family's config has these). */
export interface BatchLimits {
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly hiddenSize: number;
}

/** What checkEncoderBatch reads of a config: an encoder with absolute positions (and token types when it has them). */
export interface EncoderBatchLimits extends BatchLimits {
  /**
   * Absent or 0: the model has no token-type embeddings (gte-base-en-v1.5: NewEmbeddings skips them when
   * type_vocab_size is 0), so token type ids are not read and only their count is checked.
   */
  readonly typeVocabSize?: number;
}

/**
 * The checks every family shares: cuSeqLens, per-token and per-sequence array lengths, token ids, positions and
 * `dimensions` in range; token type ids too when `tokenTypes` is given (encoders; decoders ignore them). Returns the
 * sequence count.
 */
function checkRaggedBatch(batch: RaggedBatch, config: BatchLimits, tokenTypes: { readonly typeVocabSize?: number } | null): number {
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
  const checkTokenTypes = tokenTypes !== null && tokenTypeIds !== undefined;
  if (checkTokenTypes && tokenTypeIds.length !== numTokens) {
    throw new RangeError(`ragged batch: ${tokenTypeIds.length} token type ids for ${numTokens} tokens`);
  }
  if (dimensions.length !== numSequences || normalize.length !== numSequences) {
    throw new RangeError(`ragged batch: dimensions/normalize must have one entry per sequence (${numSequences})`);
  }
  checkRange(tokenIds, config.vocabSize, 'token id', 'input', `(vocab_size ${config.vocabSize})`);
  checkRange(positions, config.maxPositionEmbeddings, 'position', 'input', `(max_position_embeddings ${config.maxPositionEmbeddings}: input too long)`);
  if (checkTokenTypes && tokenTypes.typeVocabSize !== undefined && tokenTypes.typeVocabSize > 0)
    checkRange(tokenTypeIds, tokenTypes.typeVocabSize, 'token type id', 'input', `(type_vocab_size ${tokenTypes.typeVocabSize})`);
  for (let i = 0; i < numSequences; i++) {
    if (dimensions[i] < 0 || dimensions[i] > config.hiddenSize) {
      throw new InvalidRequestError(`dimensions ${dimensions[i]} is outside [1, ${config.hiddenSize}] for this model`, 'dimensions');
    }
  }
  return numSequences;
}

/** Throws unless `batch` is a well-formed ragged batch this encoder config can run. Returns the sequence count. */
export function checkEncoderBatch(batch: RaggedBatch, config: EncoderBatchLimits): number {
  return checkRaggedBatch(batch, config, { typeVocabSize: config.typeVocabSize });
}

/** Geometry of the KV store a paged decoder batch is checked against. */
export interface KvGeometry {
  readonly numBlocks: number;
  readonly blockSize: number;
}

/**
 * Throws unless `batch` is a well-formed batch for this decoder: the common structure, token ids and positions in
 * range, and either no decoder fields (one-shot: whole sequences) or all three of them, consistent with each other
 * and with `kv` (positions continue from numCachedTokens, block tables cover every position, block ids are real
 * blocks, never the reserved block 0). Returns the sequence count.
 */
export function checkDecoderBatch(batch: RaggedBatch, config: BatchLimits, kv: KvGeometry | null): number {
  const numSequences = checkRaggedBatch(batch, config, null);
  const { positions, cuSeqLens, blockTables, numCachedTokens, isLastChunk } = batch;
  const numDecoderFields = [blockTables, numCachedTokens, isLastChunk].filter((field) => field !== undefined).length;
  if (numDecoderFields === 0) return numSequences;
  if (numDecoderFields !== 3) throw new RangeError('ragged batch: blockTables, numCachedTokens and isLastChunk come together or not at all');
  if (kv === null) throw new RangeError('ragged batch: block tables given, but the backend has no KV cache (initKvCache was not called)');
  if (blockTables!.length !== numSequences || numCachedTokens!.length !== numSequences || isLastChunk!.length !== numSequences) {
    throw new RangeError(`ragged batch: blockTables/numCachedTokens/isLastChunk must have one entry per sequence (${numSequences})`);
  }
  for (let i = 0; i < numSequences; i++) {
    const cached = numCachedTokens![i];
    if (!Number.isInteger(cached) || cached < 0) throw new RangeError(`ragged batch: numCachedTokens[${i}] = ${cached}`);
    for (let t = cuSeqLens[i]; t < cuSeqLens[i + 1]; t++) {
      if (positions[t] !== cached + (t - cuSeqLens[i])) {
        throw new RangeError(
          `ragged batch: sequence ${i} token ${t - cuSeqLens[i]} has position ${positions[t]}, expected ${cached + (t - cuSeqLens[i])} (after ${cached} cached tokens)`,
        );
      }
    }
    const numPositions = cached + cuSeqLens[i + 1] - cuSeqLens[i];
    const table = blockTables![i];
    if (table.length * kv.blockSize < numPositions) {
      throw new RangeError(`ragged batch: block table of sequence ${i} has ${table.length} blocks of ${kv.blockSize}, too few for ${numPositions} positions`);
    }
    for (let b = 0; b < Math.ceil(numPositions / kv.blockSize); b++) {
      if (!Number.isInteger(table[b]) || table[b] <= 0 || table[b] >= kv.numBlocks) {
        throw new RangeError(`ragged batch: block table of sequence ${i} names block ${table[b]}, outside [1, ${kv.numBlocks})`);
      }
    }
    if (isLastChunk![i] !== 0 && isLastChunk![i] !== 1) throw new RangeError(`ragged batch: isLastChunk[${i}] must be 0 or 1`);
  }
  return numSequences;
}
