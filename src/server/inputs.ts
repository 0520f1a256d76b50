// Parses OpenAI's `input` field: a string, an array of strings, an array of token ids, or an array of arrays of
// token ids. Each error names the offending element, like OpenAI's "'$.input' is invalid" but more specific.
import { InvalidRequestError } from '../errors.js';
import type { EmbedInput } from '../engine/embedder.js';

export function parseEmbeddingInput(input: unknown, maxInputs: number, param = 'input'): EmbedInput[] {
  if (typeof input === 'string') {
    if (input.length === 0) throw new InvalidRequestError(`'${param}' must not be an empty string.`, param);
    return [input];
  }
  if (!Array.isArray(input)) {
    throw new InvalidRequestError(`'${param}' must be a string, an array of strings, an array of token ids or an array of token id arrays.`, param);
  }
  if (input.length === 0) throw new InvalidRequestError(`'${param}' must not be an empty array.`, param);
  // A flat array of numbers is ONE tokenized input, however long.
  if (input.every((x) => typeof x === 'number')) return [checkIdList(input, param)];
  if (input.length > maxInputs) {
    throw new InvalidRequestError(
      `'${param}' has ${input.length} inputs; this server accepts at most ${maxInputs} per request.`,
      param,
      'too_many_inputs',
      413,
    );
  }
  return input.map((item, i) => {
    const where = `${param}[${i}]`;
    if (typeof item === 'string') {
      if (item.length === 0) throw new InvalidRequestError(`'${where}' must not be an empty string.`, where);
      return item;
    }
    if (Array.isArray(item)) {
      if (item.length === 0) throw new InvalidRequestError(`'${where}' must not be an empty token id array.`, where);
      return checkIdList(item, where);
    }
    throw new InvalidRequestError(`'${where}' must be a string or an array of token ids; mixed types are not allowed.`, where);
  });
}

function checkIdList(items: readonly unknown[], where: string): number[] {
  for (let i = 0; i < items.length; i++) {
    const id = items[i];
    if (typeof id !== 'number' || !Number.isInteger(id)) {
      throw new InvalidRequestError(`'${where}[${i}]' must be an integer token id.`, `${where}[${i}]`);
    }
  }
  return items as number[];
}
