// One line -> one document or a precise reason: the messages `pooled embed` prints next to the line number.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { inputFormatFromPath, parseDocumentLine, type DocumentFields } from '../../src/embed/documents.js';
import type { InputLine } from '../../src/embed/line_reader.js';

const JSONL: DocumentFields = { format: 'jsonl', textField: 'text', idField: 'id', idRequired: false };
const line = (text: string, lineNumber = 7, problem?: string): InputLine => ({ lineNumber, startOffset: 0, endOffset: 0, text, problem });

test('input format follows the extension', () => {
  assert.equal(inputFormatFromPath('/data/a.jsonl'), 'jsonl');
  assert.equal(inputFormatFromPath('a.NDJSON'), 'jsonl');
  assert.equal(inputFormatFromPath('a.json'), 'jsonl');
  assert.equal(inputFormatFromPath('a.txt'), 'text');
  assert.equal(inputFormatFromPath('corpus'), 'text');
});

test('JSONL records give their id and text; a record without an id gets its line number', () => {
  assert.deepEqual(parseDocumentLine(line('{"id":"doc-1","text":"hello"}'), JSONL), { ok: true, id: 'doc-1', text: 'hello' });
  assert.deepEqual(parseDocumentLine(line('{"id":42,"text":"hello","extra":[1]}'), JSONL), { ok: true, id: 42, text: 'hello' });
  assert.deepEqual(parseDocumentLine(line('{"text":"no id"}', 12), JSONL), { ok: true, id: 12, text: 'no id' });
  const custom: DocumentFields = { ...JSONL, textField: 'body', idField: 'doc_id', idRequired: true };
  assert.deepEqual(parseDocumentLine(line('{"doc_id":"x","body":"b","text":"t"}'), custom), { ok: true, id: 'x', text: 'b' });
});

test('bad JSONL lines say what is wrong', () => {
  const reason = (text: string, fields = JSONL) => {
    const parsed = parseDocumentLine(line(text), fields);
    assert.equal(parsed.ok, false, text);
    return parsed.ok ? '' : parsed.reason;
  };
  assert.match(reason('{"text": "unterminated'), /^not valid JSON \(/);
  assert.equal(reason(''), 'empty line (expected a JSON object)');
  assert.equal(reason('   '), 'empty line (expected a JSON object)');
  assert.equal(reason('[1,2]'), 'an array, expected a JSON object');
  assert.equal(reason('"just a string"'), 'a string, expected a JSON object');
  assert.equal(reason('null'), 'null, expected a JSON object');
  assert.equal(reason('{"id":"a"}'), 'no "text" field (the text field)');
  assert.equal(reason('{"text":5}'), 'field "text" is a number, expected a string');
  assert.equal(reason('{"text":""}'), 'empty text in field "text"');
  assert.equal(reason('{"text":" \\t\\n"}'), 'empty text in field "text"');
  assert.equal(reason('{"id":{"a":1},"text":"x"}'), 'field "id" is an object, expected a string or a number');
  assert.equal(reason('{"text":"x"}', { ...JSONL, idRequired: true }), 'no "id" field (the id field)');
});

test('a bad line keeps the id it could read, for the errors file', () => {
  const parsed = parseDocumentLine(line('{"id":"d9","text":""}'), JSONL);
  assert.deepEqual(parsed, { ok: false, id: 'd9', reason: 'empty text in field "text"' });
});

test('plain text: the line is the text and its line number the id; blank lines are bad', () => {
  const text: DocumentFields = { ...JSONL, format: 'text' };
  assert.deepEqual(parseDocumentLine(line('{"not": "parsed"}', 3), text), { ok: true, id: 3, text: '{"not": "parsed"}' });
  assert.deepEqual(parseDocumentLine(line('  ', 4), text), { ok: false, id: 4, reason: 'empty text' });
});

test('a line the reader could not decode is bad whatever the format', () => {
  for (const format of ['jsonl', 'text'] as const) {
    assert.deepEqual(parseDocumentLine(line('', 5, 'not valid UTF-8'), { ...JSONL, format }), { ok: false, reason: 'not valid UTF-8' });
  }
});
