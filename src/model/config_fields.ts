// Readers of config.json fields shared by every architecture's parser: each error names the file and the field.
import { ModelLoadError } from '../errors.js';

export type Json = Record<string, unknown>;

export function describeValue(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}

export function requirePositiveInteger(json: Json, field: string, file: string): number {
  const value = json[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ModelLoadError(`${file}: "${field}" must be a positive integer (found ${describeValue(value)})`);
  }
  return value;
}

export function optionalPositiveInteger(json: Json, field: string, fallback: number, file: string): number {
  return json[field] === undefined || json[field] === null ? fallback : requirePositiveInteger(json, field, file);
}

export function optionalPositiveNumber(json: Json, field: string, fallback: number, file: string): number {
  const value = json[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ModelLoadError(`${file}: "${field}" must be a positive number (found ${describeValue(value)})`);
  }
  return value;
}

/** is_matryoshka / matryoshka_dimensions, read as vLLM does: a dimensions list implies Matryoshka support. */
export function parseMatryoshka(json: Json, hiddenSize: number, file: string): { isMatryoshka: boolean; matryoshkaDimensions: number[] | null } {
  const rawDimensions = json.matryoshka_dimensions;
  let matryoshkaDimensions: number[] | null = null;
  if (rawDimensions !== undefined && rawDimensions !== null) {
    if (!Array.isArray(rawDimensions) || !rawDimensions.every((dim) => typeof dim === 'number' && Number.isSafeInteger(dim) && dim > 0 && dim <= hiddenSize)) {
      throw new ModelLoadError(`${file}: "matryoshka_dimensions" must be a list of integers in 1..${hiddenSize} (found ${describeValue(rawDimensions)})`);
    }
    matryoshkaDimensions = [...(rawDimensions as number[])];
  }
  const rawFlag = json.is_matryoshka;
  if (rawFlag !== undefined && rawFlag !== null && typeof rawFlag !== 'boolean') {
    throw new ModelLoadError(`${file}: "is_matryoshka" must be true or false (found ${describeValue(rawFlag)})`);
  }
  const isMatryoshka = (matryoshkaDimensions !== null && matryoshkaDimensions.length > 0) || rawFlag === true;
  return { isMatryoshka, matryoshkaDimensions };
}
