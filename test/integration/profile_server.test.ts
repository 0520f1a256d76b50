// `pooled profile` against our own server (reference backend, a shrunken bge-small checkpoint) on 127.0.0.1:
// the profiler's token numbers must agree three ways: its own tokenizer count, the server's `usage`, and the
// server's /metrics counters scraped before and after the run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseJsonlRecords } from '../../src/profile/records_jsonl.js';
import { type ProfiledServer, startProfiledServer } from '../helpers/profiled_server.js';

const SHRINK = { numLayers: 2, hiddenSize: 64, numHeads: 4, intermediateSize: 128 };
let server: ProfiledServer;
before(async () => {
  server = await startProfiledServer('bge-small', { shrink: SHRINK }, 'bge-test');
});
after(() => server.close());
const profile = (args: string[]) => server.profile(args);

function metricsDelta(dir: string): Record<string, number> {
  return JSON.parse(readFileSync(join(dir, 'server_metrics_delta.json'), 'utf8')) as Record<string, number>;
}

test('OpenAI /v1/embeddings: every request succeeds and usage = client tokens + [CLS] and [SEP] per text', async () => {
  const { summary, dir } = await profile(['--concurrency', '2', '--request-count', '12', '--synthetic-input-tokens-mean', '20', '--batch-size-text', '2']);
  assert.equal(summary.error_request_count.avg, 0, JSON.stringify(summary.error_summary));
  assert.equal(summary.request_count.avg, 12);
  assert.equal(summary.input_sequence_length!.avg, 40);
  assert.equal(summary.input_tokens!.min, 2 * (20 + 2));
  assert.equal(summary.input_tokens!.max, 2 * (20 + 2));
  assert.equal(summary.total_input_tokens!.avg, 12 * 44);
  assert.ok(summary.input_token_throughput!.avg > 0 && summary.request_latency!.p50 > 0);
  const delta = metricsDelta(dir);
  assert.equal(delta['pooled_requests_total{route="/v1/embeddings",status="200"}'], 12);
  assert.equal(delta.pooled_input_tokens_sum, 12 * 44, 'the server counted the same tokens it reported in usage');
  // The server's x-*-time headers split each latency; the four parts add up to the latency the client measured.
  assert.equal(summary.latency_breakdown!.request_count, 12, 'every answer carried the stage times');
  assert.ok(summary.compute_time!.min > 0 && summary.tokenization_time!.min > 0);
  for (const { metrics } of parseJsonlRecords(readFileSync(join(dir, 'profile_export.jsonl'), 'utf8'))) {
    const parts = ['network_http_time', 'tokenization_time', 'queue_time', 'compute_time'].map((name) => metrics[name]!.value);
    assert.ok(parts.every((ms) => ms >= 0));
    assert.ok(Math.abs(parts.reduce((a, b) => a + b, 0) - metrics.request_latency!.value) < 1e-9);
  }
});

test('Cohere /v2/embed: tokens come from meta.billed_units', async () => {
  // bge defines no prompts and the server refuses input_type search_document without a "document" prompt;
  // clustering falls back to no prompt (and exercises --extra-inputs overriding a default body field).
  const { summary, dir } = await profile([
    '--endpoint-type',
    'cohere_embed',
    '--extra-inputs',
    'input_type:clustering',
    '--concurrency',
    '3',
    '--request-count',
    '6',
    '--synthetic-input-tokens-mean',
    '9',
    '--batch-size-text',
    '3',
  ]);
  assert.equal(summary.error_request_count.avg, 0, JSON.stringify(summary.error_summary));
  assert.equal(summary.request_count.avg, 6);
  assert.equal(summary.input_tokens!.avg, 3 * (9 + 2));
  assert.equal(metricsDelta(dir)['pooled_requests_total{route="/v2/embed",status="200"}'], 6);
});
