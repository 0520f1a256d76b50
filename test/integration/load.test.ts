// A bounded load test on loopback with autocannon: thousands of mixed requests at high concurrency. Every
// response is checked (200 with the right vectors, or a documented 429), memory is flat afterwards, the server is
// still healthy, and a text gets the same vector alone as inside large mixed requests under load.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import autocannon from 'autocannon';

import { buildRaggedBatch } from '../../src/backends/backend.js';
import { ReferenceBackend } from '../../src/backends/reference/backend.js';
import { Embedder } from '../../src/engine/embedder.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { fixtureModel } from '../fixtures/generate.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// float32 served vs float64 oracle (unit vectors): 1e-6 per value. Batch invariance: identical within 1e-6.
const TOL = 1e-6;
const TEXTS = [
  'the quick brown fox',
  'jumps over the lazy dog',
  'embedding servers batch requests together',
  'a',
  'continuous batching keeps the backend busy while requests come and go',
  'short',
  'numbers 1 2 3 4 5 6 7 8 9 10',
  'unicode café naïve résumé',
];

let embedder: Embedder;
let app: PooledServer;
let url: string;
let expected: Map<string, Float64Array>;

before(async () => {
  const path = await fixtureModel('all-minilm', { shrink: { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 } });
  embedder = await Embedder.load(path, {
    backend: 'reference',
    tokenizerWorkers: 0,
    limits: { maxNumBatchedTokens: 512, maxNumSeqs: 64, maxQueuedTokens: 6000 },
  });
  app = buildServer(embedder, { maxInputsPerRequest: 64 });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  const reference = await ReferenceBackend.create(embedder.model);
  const ids = TEXTS.map((t) => embedder.tokenize(t));
  const rows = reference.forward64(buildRaggedBatch(ids, { pooling: 'mean', normalize: ids.map(() => true) }));
  expected = new Map(TEXTS.map((t, i) => [t, rows[i]]));
});
after(async () => {
  await app.close();
  await embedder.close();
});

function requestBodies(): { body: string; texts: string[]; base64: boolean }[] {
  const big = Array.from({ length: 48 }, (_, i) => TEXTS[(i * 5) % TEXTS.length]);
  return [
    { body: JSON.stringify({ input: TEXTS[0] }), texts: [TEXTS[0]], base64: false },
    { body: JSON.stringify({ input: TEXTS.slice(1, 4) }), texts: TEXTS.slice(1, 4), base64: false },
    { body: JSON.stringify({ input: TEXTS[4], encoding_format: 'base64' }), texts: [TEXTS[4]], base64: true },
    { body: JSON.stringify({ input: big }), texts: big, base64: false },
    { body: JSON.stringify({ input: TEXTS.slice(5) }), texts: TEXTS.slice(5), base64: true },
  ].map((r) => (r.base64 ? { ...r, body: JSON.stringify({ ...JSON.parse(r.body), encoding_format: 'base64' }) } : r));
}

function decode(embedding: number[] | string): ArrayLike<number> {
  if (typeof embedding !== 'string') return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

async function blast(amount: number, connections: number) {
  const bodies = requestBodies();
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let numChecked = 0;
  const result = await autocannon({
    url: `${url}/v1/embeddings`,
    connections,
    amount,
    timeout: 30,
    requests: bodies.map((b) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: b.body,
      onResponse: (status: number, body: string) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 429) {
          if (JSON.parse(body).error?.type !== 'overloaded_error') failures.push(`429 without the overloaded_error body: ${body}`);
          return;
        }
        if (status !== 200) {
          failures.push(`status ${status}: ${body.slice(0, 200)}`);
          return;
        }
        const data = JSON.parse(body).data as { embedding: number[] | string }[];
        if (data.length !== b.texts.length) failures.push(`expected ${b.texts.length} rows, got ${data.length}`);
        data.forEach((d, i) => {
          const got = decode(d.embedding);
          const want = expected.get(b.texts[i])!;
          for (let j = 0; j < want.length; j++) {
            if (!(Math.abs(got[j] - want[j]) <= TOL)) {
              failures.push(`"${b.texts[i]}" value ${j}: ${got[j]} vs ${want[j]}`);
              break;
            }
          }
        });
        numChecked++;
      },
    })),
  });
  return { result, failures, statuses, numChecked };
}

test('thousands of mixed requests at concurrency 64: every answer correct or a documented 429, memory flat, still healthy', async () => {
  // Round 1 warms everything (JIT, pools); round 2 must not grow the heap.
  const warm = await blast(600, 64);
  assert.deepEqual(warm.failures.slice(0, 5), []);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const { result, failures, statuses, numChecked } = await blast(2400, 64);
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} bad responses`);
  assert.equal(result.errors, 0, 'connection errors');
  assert.equal(result.timeouts, 0, 'timeouts');
  assert.ok(
    [...statuses.keys()].every((s) => s === 200 || s === 429),
    JSON.stringify([...statuses]),
  );
  assert.ok(numChecked >= 1000, `only ${numChecked} successful responses were checked`);
  // Flat memory: a leak of even 1 KB per request would add > 2 MB over 2400 requests.
  assert.ok(heapAfter - heapBefore < 2 * 1024 * 1024, `heap grew by ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB`);
  assert.equal(embedder.scheduler.queuedTokens, 0);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  const after = await fetch(`${url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: TEXTS[0] }),
  });
  assert.equal(after.status, 200);
});

test('batch invariance through the server: alone vs inside a large mixed request under concurrent load', async () => {
  const probe = TEXTS[4];
  const alone = (await (
    await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: probe }) })
  ).json()) as any;
  const mixed = Array.from({ length: 40 }, (_, i) => (i === 17 ? probe : `${TEXTS[i % TEXTS.length]} ${'x '.repeat(i % 7)}`));
  const load = blast(400, 32);
  const inside = (await (
    await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: mixed }) })
  ).json()) as any;
  await load;
  const a = alone.data[0].embedding as number[];
  const b = inside.data[17].embedding as number[];
  for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) <= TOL, `value ${j}: ${a[j]} vs ${b[j]}`);
});
