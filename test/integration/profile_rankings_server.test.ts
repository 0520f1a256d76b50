// `pooled profile --endpoint-type hf_tei_rankings | cohere_rankings` against our own server serving a cross-encoder
// (the shrunken ms-marco-MiniLM fixture, reference backend): every request ranks all its passages, the client's
// token count, the server's usage and its /metrics agree, and the artifacts carry the rankings bodies.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseJsonlRecords } from '../../src/profile/records_jsonl.js';
import { type ProfiledServer, startProfiledServer } from '../helpers/profiled_server.js';

const SHRINK = { numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 };
let server: ProfiledServer;
before(async () => {
  server = await startProfiledServer('ms-marco-minilm', { shrink: SHRINK }, 'ce-test');
});
after(() => server.close());
const profile = (args: string[]) => server.profile(args);

const json = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

test('TEI /rerank: every answer ranks all passages; batch size = passages; ISL = query + passages', async () => {
  const { summary, dir, output } = await profile([
    '--endpoint-type',
    'rankings',
    '--concurrency',
    '2',
    '--request-count',
    '8',
    '--rankings-passages-mean',
    '3',
    '--rankings-passages-prompt-token-mean',
    '12',
    '--rankings-query-prompt-token-mean',
    '5',
  ]);
  assert.equal(summary.error_request_count.avg, 0, JSON.stringify(summary.error_summary));
  assert.equal(summary.request_count.avg, 8);
  assert.equal(summary.batch_size!.min, 3);
  assert.equal(summary.batch_size!.max, 3);
  assert.equal(summary.input_sequence_length!.avg, 5 + 3 * 12);
  assert.equal(summary.input_tokens, null, "TEI's answer carries no usage");
  assert.match(output, /ce-test \| hf_tei_rankings \| concurrency2/);
  const delta = json(dir, 'server_metrics_delta.json') as Record<string, number>;
  assert.equal(delta['pooled_requests_total{route="/rerank",status="200"}'], 8);
  // The server scored 3 pairs of [CLS] query [SEP] passage [SEP] per request.
  assert.equal(delta.pooled_input_tokens_sum, 8 * 3 * (5 + 12 + 3));
  const bodies = json(dir, 'inputs.json').data.map((session: { payloads: Record<string, unknown>[] }) => session.payloads[0]);
  assert.ok(bodies.length >= 8);
  for (const body of bodies) {
    assert.deepEqual(Object.keys(body), ['query', 'texts']);
    assert.equal((body.texts as string[]).length, 3);
  }
  const aggregate = json(dir, 'profile_export_aiperf.json');
  assert.equal(aggregate.input_config.endpoint.type, 'hf_tei_rankings');
  assert.equal(aggregate.input_config.endpoint.custom_endpoint, '/rerank');
  assert.deepEqual(aggregate.input_config.datasets[0].rankings.passages, { mean: 3, stddev: 0 });
  const records = parseJsonlRecords(readFileSync(join(dir, 'profile_export.jsonl'), 'utf8'));
  assert.equal(records.length, 8);
  assert.ok(records.every((r) => r.error === null && r.metrics.batch_size!.value === 3));
});

test("Cohere /v2/rerank: usage prompt_tokens = the pairs' tokens; a varying passage count is ranked in full", async () => {
  const { summary, dir } = await profile([
    '--endpoint-type',
    'cohere_rankings',
    '--request-count',
    '10',
    '--rankings-passages-mean',
    '3',
    '--rankings-passages-stddev',
    '2',
    '--rankings-passages-prompt-token-mean',
    '8',
    '--rankings-query-prompt-token-mean',
    '4',
  ]);
  assert.equal(summary.error_request_count.avg, 0, JSON.stringify(summary.error_summary));
  assert.ok(summary.batch_size!.max > summary.batch_size!.min, 'the passage count varies');
  const records = parseJsonlRecords(readFileSync(join(dir, 'profile_export.jsonl'), 'utf8'));
  for (const { metrics } of records) {
    const passages = metrics.batch_size!.value;
    assert.equal(metrics.input_sequence_length!.value, 4 + passages * 8);
    assert.equal(metrics.input_tokens!.value, passages * (4 + 8 + 3));
  }
  assert.equal(json(dir, 'server_metrics_delta.json')['pooled_requests_total{route="/v2/rerank",status="200"}'], 10);
  const body = json(dir, 'inputs.json').data[0].payloads[0];
  assert.deepEqual(Object.keys(body), ['model', 'query', 'documents']);
  assert.equal(body.model, 'ce-test');
});

test('an input file of named texts (query, passages) against /v1/rerank', async () => {
  const file = join(server.scratch, 'rankings.jsonl');
  const lines = [
    {
      texts: [
        { name: 'query', contents: ['what do cats eat'] },
        { name: 'passages', contents: ['cats eat fish', 'paris is in france'] },
      ],
    },
    {
      texts: [
        { name: 'query', contents: ['capital of italy'] },
        { name: 'passages', contents: ['rome', 'milan', 'naples', 'turin'] },
      ],
    },
  ];
  writeFileSync(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  const { summary, dir } = await profile(['--endpoint-type', 'cohere_rankings', '--endpoint', '/v1/rerank', '--request-count', '4', '--input-file', file]);
  assert.equal(summary.error_request_count.avg, 0, JSON.stringify(summary.error_summary));
  assert.equal(summary.batch_size!.min, 2);
  assert.equal(summary.batch_size!.max, 4);
  const sent = json(dir, 'inputs.json').data.map((s: { payloads: { query: string; documents: string[] }[] }) => s.payloads[0]);
  assert.deepEqual(
    sent.map((b: { query: string; documents: string[] }) => [b.query, b.documents]),
    [
      ['what do cats eat', ['cats eat fish', 'paris is in france']],
      ['capital of italy', ['rome', 'milan', 'naples', 'turin']],
    ],
  );
  assert.equal(json(dir, 'server_metrics_delta.json')['pooled_requests_total{route="/v1/rerank",status="200"}'], 4);
});
