// Request bodies per endpoint type, built once per dataset entry before the run starts (so JSON encoding
// is not part of the measured latency, and inputs.json records exactly what was sent).
import type { DatasetEntry } from './dataset.js';
import type { EndpointType } from './records.js';

export interface PayloadSettings {
  readonly endpointType: EndpointType;
  readonly model: string;
  readonly streaming: boolean;
  readonly outputTokensMean: number | null;
  readonly extraInputs: Readonly<Record<string, unknown>>;
}

export interface PreparedRequest {
  readonly entryId: string;
  readonly body: Record<string, unknown>;
  readonly json: string;
  /** Embeddings (or, for rankings, ranked passages) the server must return for the answer to count as correct. */
  readonly expectedOutputs: number;
  /** Inputs carried (texts + images; passages for rankings), the "batch size" of the request. */
  readonly batchSize: number;
  readonly inputSequenceLength: number | null;
}

type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

function contentParts(entry: DatasetEntry): ContentPart[] {
  return [
    ...entry.texts.map((text): ContentPart => ({ type: 'text', text })),
    ...entry.images.map((url): ContentPart => ({ type: 'image_url', image_url: { url } })),
  ];
}

function embeddingsBody(entry: DatasetEntry, model: string): { body: Record<string, unknown>; expectedOutputs: number } {
  if (entry.images.length === 0) return { body: { model, input: [...entry.texts] }, expectedOutputs: entry.texts.length };
  // OpenAI's embeddings API has no images; multimodal embedding servers (vLLM) take one chat-style
  // conversation per request and return one embedding for it.
  return { body: { model, messages: [{ role: 'user', content: contentParts(entry) }], encoding_format: 'float' }, expectedOutputs: 1 };
}

function cohereBody(entry: DatasetEntry, model: string): { body: Record<string, unknown>; expectedOutputs: number } {
  const common = { model, embedding_types: ['float'] };
  if (entry.images.length === 0) {
    return { body: { ...common, texts: [...entry.texts], input_type: 'search_document' }, expectedOutputs: entry.texts.length };
  }
  if (entry.texts.length === 0) {
    return { body: { ...common, images: [...entry.images], input_type: 'image' }, expectedOutputs: entry.images.length };
  }
  // Cohere v2 mixes text and images only through `inputs`, one embedding per input.
  return { body: { ...common, inputs: [{ content: contentParts(entry) }], input_type: 'search_document' }, expectedOutputs: 1 };
}

/**
 * AIPerf's rankings bodies (hf_tei_rankings.py, cohere_rankings.py): TEI's {query, texts} carries no model;
 * Cohere's {model, query, documents} does. Every passage must come back ranked.
 */
function rankingsBody(entry: DatasetEntry, settings: PayloadSettings): Record<string, unknown> {
  if (entry.query === undefined) throw new Error(`dataset entry ${entry.id} has no query; a rankings request needs one`);
  if (settings.endpointType === 'hf_tei_rankings') return { query: entry.query, texts: [...entry.texts] };
  return { model: settings.model, query: entry.query, documents: [...entry.texts] };
}

function chatBody(entry: DatasetEntry, settings: PayloadSettings): Record<string, unknown> {
  const content = entry.images.length === 0 && entry.texts.length === 1 ? entry.texts[0]! : contentParts(entry);
  const body: Record<string, unknown> = { model: settings.model, messages: [{ role: 'user', content }] };
  if (settings.outputTokensMean !== null) body.max_tokens = settings.outputTokensMean;
  if (settings.streaming) {
    body.stream = true;
    // Without this OpenAI-compatible servers send no usage in a stream, and token counts would be guesses.
    body.stream_options = { include_usage: true };
  }
  return body;
}

export function prepareRequest(entry: DatasetEntry, settings: PayloadSettings): PreparedRequest {
  let body: Record<string, unknown>;
  let expectedOutputs: number;
  switch (settings.endpointType) {
    case 'embeddings':
      ({ body, expectedOutputs } = embeddingsBody(entry, settings.model));
      break;
    case 'cohere_embed':
      ({ body, expectedOutputs } = cohereBody(entry, settings.model));
      break;
    case 'chat':
      body = chatBody(entry, settings);
      expectedOutputs = 1;
      break;
    case 'hf_tei_rankings':
    case 'cohere_rankings':
      body = rankingsBody(entry, settings);
      expectedOutputs = entry.texts.length;
      break;
  }
  body = { ...body, ...settings.extraInputs };
  return {
    entryId: entry.id,
    body,
    json: JSON.stringify(body),
    expectedOutputs,
    batchSize: settings.endpointType === 'chat' ? 1 : entry.texts.length + entry.images.length,
    inputSequenceLength: entry.inputSequenceLength,
  };
}
