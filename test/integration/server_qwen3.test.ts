// A decoder embedding model (shrunk Qwen3-Embedding, real layout and tokenizer, random weights) through the
// HTTP server: instruction prompts by prompt_name and Cohere input_type, prefix caching visible in /info and
// /metrics, cache_salt isolation, and the flags that configure the KV cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { PagedReferenceBackend } from '../../src/backends/reference/backend.js';
import { buildRaggedBatch } from '../../src/backends/backend.js';
import { parseServeArgs } from '../../src/cli/serve_options.js';
import { Embedder } from '../../src/engine/embedder.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { qwen3FixtureDir } from '../helpers/qwen3_fixture.js';

// float32 served rows vs the float64 one-shot oracle, unit vectors: 1e-6 per value.
const TOL = 1e-6;
const QUERY_PROMPT = 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:';

let embedder: Embedder;
let app: PooledServer;
let oracle: PagedReferenceBackend;

before(async () => {
  const dir = await qwen3FixtureDir('F32');
  embedder = await Embedder.load(dir, {
    backend: 'reference',
    tokenizerWorkers: 0,
    kvCache: { blockSize: 4, kvCacheMemoryBytes: 8 * 1024 * 1024 },
    limits: { maxNumBatchedTokens: 16 },
  });
  app = buildServer(embedder);
  oracle = await PagedReferenceBackend.create(embedder.model);
});
after(async () => {
  await app.close();
  await embedder.close();
});

function oneShot(text: string): Float64Array {
  const ids = embedder.tokenize(text);
  return oracle.forward64(buildRaggedBatch([ids], { pooling: 'last', normalize: [true] }))[0];
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= TOL, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

test('prompt_name "query" and Cohere search_query both prepend the instruction; chunked + cached rows equal one-shot', async () => {
  const query = 'what is the boiling point of water at altitude';
  const viaOpenAi = (await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: query, prompt_name: 'query' } })).json();
  const viaCohere = (await app.inject({ method: 'POST', url: '/v2/embed', payload: { texts: [query], input_type: 'search_query' } })).json();
  const want = oneShot(QUERY_PROMPT + query);
  assertClose(viaOpenAi.data[0].embedding, want);
  assertClose(viaCohere.embeddings.float[0], want);
  // The token budget (16) is below the prompt's length, so these inputs were chunked; the second request reused
  // the first one's cached prompt blocks.
  assert.ok(viaOpenAi.usage.prompt_tokens > 16);
  // Ends with <|endoftext|> (151643), which LAST pooling reads.
  const ids = (await app.inject({ method: 'POST', url: '/tokenize', payload: { prompt: query } })).json().tokens;
  assert.equal(ids.at(-1), 151643);
});

test('/info and /metrics report the KV cache, prefix-cache hits and chunked prefill', async () => {
  const info = (await app.inject({ method: 'GET', url: '/info' })).json();
  assert.equal(info.prefix_caching, true);
  assert.equal(info.chunked_prefill, true);
  assert.equal(info.kv_cache.blockSize ?? info.kv_cache.block_size, 4);
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
  assert.ok(value('pooled_prefix_cache_queries_tokens_total') > 0);
  assert.ok(value('pooled_prefix_cache_hits_tokens_total') > 0, 'the second prompted request hit the cache');
  assert.ok(value('pooled_chunked_prefill_sequences_total') >= 1);
  assert.ok(value('pooled_kv_cache_usage_ratio') >= 0);
});

test('cache_salt isolates tenants: a salted request does not hit blocks cached without the salt', async () => {
  const text = 'tenant isolation check with a shared instruction prefix';
  const read = async () => {
    const m = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(/^pooled_prefix_cache_hits_tokens_total (\S+)$/m.exec(m)![1]);
  };
  await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: text, prompt_name: 'query' } });
  const before = await read();
  const salted = (await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: text, prompt_name: 'query', cache_salt: 'tenant-b' } })).json();
  assert.equal(await read(), before, 'a salted request must not reuse unsalted blocks');
  assertClose(salted.data[0].embedding, oneShot(QUERY_PROMPT + text));
  await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: text, prompt_name: 'query', cache_salt: 'tenant-b' } });
  assert.ok((await read()) > before, 'the same salt hits its own blocks');
  const empty = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: text, cache_salt: '' } });
  assert.equal(empty.statusCode, 400);
});

test('KV flags: --block-size, --kv-cache-memory with units, --no-enable-prefix-caching', () => {
  const opts = parseServeArgs(['--model', 'm', '--block-size', '32', '--kv-cache-memory', '512MiB', '--no-enable-prefix-caching']);
  assert.notEqual(opts, 'help');
  const kv = (opts as Exclude<typeof opts, 'help'>).embedder.kvCache!;
  assert.equal(kv.blockSize, 32);
  assert.equal(kv.kvCacheMemoryBytes, 512 * 1024 * 1024);
  assert.equal(kv.enablePrefixCaching, false);
  const env = parseServeArgs(['--model', 'm'], { POOLED_KV_CACHE_MEMORY: '2GB', POOLED_ENABLE_PREFIX_CACHING: 'true' });
  assert.equal((env as Exclude<typeof env, 'help'>).embedder.kvCache!.kvCacheMemoryBytes, 2e9);
  assert.throws(() => parseServeArgs(['--model', 'm', '--kv-cache-memory', 'lots']), /byte size/);
});
