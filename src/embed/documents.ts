// One input line -> one document (id + text) or a reason it is not one. Two formats: JSONL (one object per line,
// text and id taken from named fields) and plain text (the line is the text, its line number the id).
import { extname } from 'node:path';

import type { InputLine } from './line_reader.js';

export type InputFormat = 'jsonl' | 'text';

/** Ids are kept as the input wrote them: a JSON string or number. */
export type DocumentId = string | number;

export interface DocumentFields {
  readonly format: InputFormat;
  readonly textField: string;
  readonly idField: string;
  /** When false, a record without the id field gets its line number as id. */
  readonly idRequired: boolean;
}

export type ParsedLine =
  | { readonly ok: true; readonly id: DocumentId; readonly text: string }
  | { readonly ok: false; readonly id?: DocumentId; readonly reason: string };

const JSONL_EXTENSIONS = new Set(['.jsonl', '.ndjson', '.json']);

/** Input format from the file name: .jsonl/.ndjson/.json are JSON lines, anything else is one text per line. */
export function inputFormatFromPath(path: string): InputFormat {
  return JSONL_EXTENSIONS.has(extname(path).toLowerCase()) ? 'jsonl' : 'text';
}

function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function parseDocumentLine(line: InputLine, fields: DocumentFields): ParsedLine {
  if (line.problem !== undefined) return { ok: false, reason: line.problem };
  if (fields.format === 'text') {
    // A whitespace-only text still tokenizes (to just the special tokens) into a vector that means nothing.
    if (isBlank(line.text)) return { ok: false, id: line.lineNumber, reason: 'empty text' };
    return { ok: true, id: line.lineNumber, text: line.text };
  }
  if (isBlank(line.text)) return { ok: false, reason: 'empty line (expected a JSON object)' };
  let record: unknown;
  try {
    record = JSON.parse(line.text);
  } catch (err) {
    return { ok: false, reason: `not valid JSON (${(err as Error).message})` };
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { ok: false, reason: `${describeType(record)}, expected a JSON object` };
  }
  const fieldsOf = record as Record<string, unknown>;
  let id: DocumentId = line.lineNumber;
  if (Object.hasOwn(fieldsOf, fields.idField)) {
    const value = fieldsOf[fields.idField];
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) id = value;
    else return { ok: false, reason: `field "${fields.idField}" is ${describeType(value)}, expected a string or a number` };
  } else if (fields.idRequired) {
    return { ok: false, reason: `no "${fields.idField}" field (the id field)` };
  }
  if (!Object.hasOwn(fieldsOf, fields.textField)) {
    return { ok: false, id, reason: `no "${fields.textField}" field (the text field)` };
  }
  const text = fieldsOf[fields.textField];
  if (typeof text !== 'string') {
    return { ok: false, id, reason: `field "${fields.textField}" is ${describeType(text)}, expected a string` };
  }
  if (isBlank(text)) return { ok: false, id, reason: `empty text in field "${fields.textField}"` };
  return { ok: true, id, text };
}
