// Reading the small JSON files of a model folder, with errors that name the file.
import { readFile } from 'node:fs/promises';
import { ModelLoadError } from '../errors.js';

/** Parsed JSON of `path`, or undefined when the file does not exist. Unreadable or malformed files are errors. */
export async function readOptionalJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ModelLoadError(`${path}: cannot read (${code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

export async function readJsonFile(path: string): Promise<unknown> {
  const json = await readOptionalJsonFile(path);
  if (json === undefined) throw new ModelLoadError(`${path}: file not found`);
  return json;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
