// Turns a finished HTTP exchange into the numbers of one request record: token usage as the server reported
// it, streaming timings for chat, and a check that a 2xx answer really carries the expected results (a
// server that returns 200 with an empty list has not served the request).
import type { HttpExchange } from './http_transport.js';
import type { EndpointType, RequestError } from './records.js';

export interface ResponseMetrics {
  readonly usageInputTokens: number | null;
  readonly outputTokens: number | null;
  readonly timeToFirstTokenMs: number | null;
  readonly interTokenLatencyMs: number | null;
  readonly error: RequestError | null;
}

const NO_METRICS = { usageInputTokens: null, outputTokens: null, timeToFirstTokenMs: null, interTokenLatencyMs: null } as const;

function invalid(status: number | null, message: string): ResponseMetrics {
  return { ...NO_METRICS, error: { code: status, type: 'InvalidResponse', message } };
}

function finiteNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

/** OpenAI-style usage: prompt_tokens, or total_tokens when a server reports only that (embeddings have no output). */
function openAiInputTokens(usage: Json | null): number | null {
  if (!usage) return null;
  return finiteNumber(usage.prompt_tokens) ?? finiteNumber(usage.input_tokens) ?? finiteNumber(usage.total_tokens);
}

function embeddingsMetrics(json: Json, expected: number, status: number | null): ResponseMetrics {
  const data = json.data;
  if (!Array.isArray(data)) return invalid(status, 'response has no "data" list');
  if (data.length !== expected) return invalid(status, `expected ${expected} embeddings, got ${data.length}`);
  return { ...NO_METRICS, usageInputTokens: openAiInputTokens(asObject(json.usage)), error: null };
}

function cohereMetrics(json: Json, expected: number, status: number | null): ResponseMetrics {
  const embeddings = asObject(json.embeddings);
  // v2 answers {embeddings: {float: [...], int8: [...]}}; v1 "embeddings_floats" answers a bare list.
  const lists = embeddings ? Object.values(embeddings) : Array.isArray(json.embeddings) ? [json.embeddings] : [];
  if (lists.length === 0) return invalid(status, 'response has no "embeddings"');
  for (const list of lists) {
    if (!Array.isArray(list) || list.length !== expected) {
      return invalid(status, `expected ${expected} embeddings, got ${Array.isArray(list) ? list.length : 'none'}`);
    }
  }
  const meta = asObject(json.meta);
  const inputTokens = finiteNumber(asObject(meta?.billed_units)?.input_tokens) ?? finiteNumber(asObject(meta?.tokens)?.input_tokens);
  return { ...NO_METRICS, usageInputTokens: inputTokens, error: null };
}

/**
 * A rankings answer ranks every passage: `expected` entries, each a distinct passage index in range with a finite
 * score. TEI answers a bare [{index, score}] list (AIPerf's TEI parser also takes {results: [...]}); Cohere and vLLM
 * answer {results: [{index, relevance_score}]}, vLLM with OpenAI-style usage.
 */
function rankingsMetrics(parsed: unknown, endpointType: 'hf_tei_rankings' | 'cohere_rankings', expected: number, status: number | null): ResponseMetrics {
  const json = asObject(parsed);
  const list = endpointType === 'hf_tei_rankings' && Array.isArray(parsed) ? parsed : json?.results;
  if (!Array.isArray(list)) {
    return invalid(status, endpointType === 'hf_tei_rankings' ? 'response is not a list of {index, score}' : 'response has no "results" list');
  }
  if (list.length !== expected) return invalid(status, `expected ${expected} ranked passages, got ${list.length}`);
  const scoreField = endpointType === 'hf_tei_rankings' && Array.isArray(parsed) ? 'score' : 'relevance_score';
  const seen = new Set<number>();
  for (const item of list) {
    const ranking = asObject(item);
    const index = ranking?.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected) {
      return invalid(status, `ranking index ${JSON.stringify(index)} is not a passage index (0..${expected - 1})`);
    }
    if (seen.has(index)) return invalid(status, `passage ${index} is ranked twice`);
    seen.add(index);
    if (finiteNumber(ranking![scoreField]) === null) return invalid(status, `ranking of passage ${index} has no numeric "${scoreField}"`);
  }
  const meta = asObject(json?.meta);
  const inputTokens =
    openAiInputTokens(asObject(json?.usage)) ?? finiteNumber(asObject(meta?.billed_units)?.input_tokens) ?? finiteNumber(asObject(meta?.tokens)?.input_tokens);
  return { ...NO_METRICS, usageInputTokens: inputTokens, error: null };
}

function chatMetrics(json: Json, status: number | null): ResponseMetrics {
  if (!Array.isArray(json.choices) || json.choices.length === 0) return invalid(status, 'response has no "choices"');
  const usage = asObject(json.usage);
  return {
    ...NO_METRICS,
    usageInputTokens: openAiInputTokens(usage),
    outputTokens: finiteNumber(usage?.completion_tokens),
    error: null,
  };
}

function deltaText(chunk: Json): string {
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length === 0) return '';
  const delta = asObject(asObject(choices[0])?.delta);
  const content = delta?.content ?? delta?.reasoning_content;
  return typeof content === 'string' ? content : '';
}

function streamingChatMetrics(exchange: HttpExchange): ResponseMetrics {
  const tokenTimes: bigint[] = [];
  let usage: Json | null = null;
  for (const event of exchange.events) {
    if (event.data.trim() === '[DONE]') continue;
    let chunk: Json | null;
    try {
      chunk = asObject(JSON.parse(event.data));
    } catch {
      return invalid(exchange.status, `stream event is not JSON: ${event.data.slice(0, 80)}`);
    }
    if (!chunk) continue;
    if (asObject(chunk.usage)) usage = asObject(chunk.usage);
    if (deltaText(chunk) !== '') tokenTimes.push(event.atNs);
  }
  if (tokenTimes.length === 0) return invalid(exchange.status, 'stream carried no content');
  const outputTokens = finiteNumber(usage?.completion_tokens) ?? tokenTimes.length;
  const first = tokenTimes[0]!;
  const last = tokenTimes[tokenTimes.length - 1]!;
  return {
    usageInputTokens: openAiInputTokens(usage),
    outputTokens,
    timeToFirstTokenMs: Number(first - exchange.startNs) / 1e6,
    // AIPerf's definition: the generation time after the first token, spread over the remaining tokens.
    interTokenLatencyMs: outputTokens > 1 ? Number(last - first) / 1e6 / (outputTokens - 1) : null,
    error: null,
  };
}

export function responseMetrics(exchange: HttpExchange, endpointType: EndpointType, streaming: boolean, expectedOutputs: number): ResponseMetrics {
  if (exchange.error) return { ...NO_METRICS, error: exchange.error };
  if (endpointType === 'chat' && streaming) return streamingChatMetrics(exchange);
  let parsed: unknown;
  try {
    parsed = JSON.parse(exchange.body);
  } catch {
    return invalid(exchange.status, `response is not JSON: ${exchange.body.slice(0, 80)}`);
  }
  if (endpointType === 'hf_tei_rankings' || endpointType === 'cohere_rankings') return rankingsMetrics(parsed, endpointType, expectedOutputs, exchange.status);
  const json = asObject(parsed);
  if (!json) return invalid(exchange.status, 'response is not a JSON object');
  switch (endpointType) {
    case 'embeddings':
      return embeddingsMetrics(json, expectedOutputs, exchange.status);
    case 'cohere_embed':
      return cohereMetrics(json, expectedOutputs, exchange.status);
    case 'chat':
      return chatMetrics(json, exchange.status);
  }
}
