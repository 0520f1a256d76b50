// config.json readers both rotary-BERT families share: every refusal names the field and what is supported.
import { ModelLoadError } from '../../../errors.js';
import { describeValue, type Json } from '../../config_fields.js';

/** The first of `fields` that config.json sets (families renamed fields across versions: n_embd -> hidden_size). */
export function firstPresent(json: Json, fields: readonly string[]): string | undefined {
  return fields.find((field) => json[field] !== undefined && json[field] !== null);
}

export function requireFirstPositiveInteger(json: Json, fields: readonly string[], file: string): number {
  const field = firstPresent(json, fields) ?? fields[0];
  const value = json[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ModelLoadError(`${file}: "${field}" must be a positive integer (found ${describeValue(value)})`);
  }
  return value;
}

export function requirePositiveNumberField(json: Json, field: string, fallback: number | undefined, file: string): number {
  const value = json[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ModelLoadError(`${file}: "${field}" must be a positive number (found ${describeValue(value)})`);
  }
  return value;
}

export function booleanField(json: Json, field: string, fallback: boolean, file: string): boolean {
  const value = json[field] ?? fallback;
  if (typeof value !== 'boolean') throw new ModelLoadError(`${file}: "${field}" must be true or false (found ${describeValue(value)})`);
  return value;
}

/** Refuses a field whose value changes the forward pass in a way we do not implement (absent / null = the default). */
export function refuseUnless(json: Json, field: string, accepted: readonly unknown[], file: string, why: string): void {
  const value = json[field];
  if (value === undefined || value === null) return;
  if (!accepted.includes(value)) {
    throw new ModelLoadError(
      `${file}: ${field} ${describeValue(value)} is not supported (${why}); supported: ${accepted.map((a) => JSON.stringify(a)).join(', ')}`,
    );
  }
}

export function checkHeads(hiddenSize: number, numHeads: number, file: string): void {
  if (hiddenSize % numHeads !== 0) throw new ModelLoadError(`${file}: hidden size ${hiddenSize} is not a multiple of the head count ${numHeads}`);
  if ((hiddenSize / numHeads) % 2 !== 0)
    throw new ModelLoadError(`${file}: head dim ${hiddenSize / numHeads} must be even (rotate-half rotary splits each head in two)`);
}

export function typeVocabSize(json: Json, fallback: number, file: string): number {
  const value = json.type_vocab_size ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ModelLoadError(`${file}: "type_vocab_size" must be a non-negative integer (found ${describeValue(value)})`);
  }
  return value;
}
