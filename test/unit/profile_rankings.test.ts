// `pooled profile --endpoint-type hf_tei_rankings | cohere_rankings`: AIPerf 0.13's rankings flags and defaults,
// its query + passages dataset (synthetic and single_turn named texts), its two request bodies, and the check that
// an answer ranks every passage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { aiperfInputConfig } from '../../src/profile/artifacts.js';
import { buildSyntheticDataset, type DatasetEntry, loadInputFile } from '../../src/profile/dataset.js';
import type { HttpExchange } from '../../src/profile/http_transport.js';
import { DEFAULT_RANKINGS, parseProfileArgs } from '../../src/profile/options.js';
import { type PayloadSettings, prepareRequest } from '../../src/profile/payload.js';
import type { EndpointType } from '../../src/profile/records.js';
import { responseMetrics } from '../../src/profile/response_metrics.js';
import { loadTokenCounter } from '../../src/profile/tokenizer_loader.js';

const BGE = 'test/fixtures/models/BAAI--bge-small-en-v1.5';
const base = ['--model', 'reranker', '--url', 'localhost:8000'];
const scratch = mkdtempSync(join(tmpdir(), 'profile-rankings-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('rankings endpoint types: default paths, the `rankings` alias, dashed spellings', () => {
  const tei = parseProfileArgs([...base, '--endpoint-type', 'hf_tei_rankings'])!;
  assert.equal(tei.endpointType, 'hf_tei_rankings');
  assert.equal(tei.endpointPath, '/rerank');
  assert.equal(tei.artifactDir, 'artifacts/reranker-hf_tei_rankings-concurrency1');
  assert.equal(parseProfileArgs([...base, '--endpoint-type', 'rankings'])!.endpointType, 'hf_tei_rankings');
  assert.equal(parseProfileArgs([...base, '--endpoint-type', 'hf-tei-rankings'])!.endpointType, 'hf_tei_rankings');
  const cohere = parseProfileArgs([...base, '--endpoint-type', 'cohere_rankings'])!;
  assert.equal(cohere.endpointPath, '/v2/rerank');
  assert.equal(parseProfileArgs([...base, '--endpoint-type', 'cohere_rankings', '--endpoint', '/v1/rerank'])!.endpointPath, '/v1/rerank');
  assert.throws(() => parseProfileArgs([...base, '--endpoint-type', 'nim_rankings']), /--endpoint-type must be .*hf_tei_rankings.*got "nim_rankings"/);
});

test("rankings flags: AIPerf's effective defaults (10 passages x 128 tokens, 32-token query), each overridable", () => {
  const defaults = parseProfileArgs([...base, '--endpoint-type', 'rankings'])!;
  assert.equal(defaults.inputs.kind, 'synthetic');
  assert.deepEqual(defaults.inputs.kind === 'synthetic' && defaults.inputs.rankings, DEFAULT_RANKINGS);
  assert.deepEqual(DEFAULT_RANKINGS, {
    passagesMean: 10,
    passagesStddev: 0,
    passageTokensMean: 128,
    passageTokensStddev: 0,
    queryTokensMean: 32,
    queryTokensStddev: 0,
  });
  const set = parseProfileArgs([
    ...base,
    '--endpoint-type',
    'cohere_rankings',
    '--rankings-passages-mean',
    '5',
    '--rankings-passages-stddev',
    '2',
    '--rankings-passages-prompt-token-mean',
    '60',
    '--rankings-passages-prompt-token-stddev',
    '6',
    '--rankings-query-prompt-token-mean',
    '12',
    '--rankings-query-prompt-token-stddev',
    '3',
  ])!;
  assert.deepEqual(set.inputs.kind === 'synthetic' && set.inputs.rankings, {
    passagesMean: 5,
    passagesStddev: 2,
    passageTokensMean: 60,
    passageTokensStddev: 6,
    queryTokensMean: 12,
    queryTokensStddev: 3,
  });
  // The input_config block in AIPerf's v2 layout (datasets[].rankings).
  const config = aiperfInputConfig(set, set.loadPoints[0]!, 10, 'out') as { datasets: Record<string, unknown>[]; endpoint: { type: string } };
  assert.equal(config.endpoint.type, 'cohere_rankings');
  assert.deepEqual(config.datasets[0]!.rankings, {
    passages: { mean: 5, stddev: 2 },
    passage_tokens: { mean: 60, stddev: 6 },
    query_tokens: { mean: 12, stddev: 3 },
  });
});

test('bad rankings flags are refused with the reason', () => {
  const rankings = [...base, '--endpoint-type', 'rankings'];
  assert.throws(() => parseProfileArgs([...rankings, '--rankings-passages-mean', '0']), /--rankings-passages-mean must be at least 1, got 0/);
  assert.throws(() => parseProfileArgs([...rankings, '--rankings-passages-stddev=-1']), /must be at least 0/);
  assert.throws(() => parseProfileArgs([...rankings, '--rankings-query-prompt-token-mean', '2.5']), /expects an integer/);
  assert.throws(() => parseProfileArgs([...rankings, '--rankings-passages-prompt-token-mean', 'x']), /expects a number/);
  // Rankings flags on another endpoint type, and embedding-input flags on a rankings endpoint, would do nothing.
  assert.throws(() => parseProfileArgs([...base, '--rankings-passages-mean', '4']), /--rankings-passages-mean applies to --endpoint-type hf_tei_rankings/);
  for (const [flag, value] of [
    ['--batch-size-text', '4'],
    ['--synthetic-input-tokens-mean', '64'],
    ['--batch-size-image', '1'],
    ['--output-tokens-mean', '8'],
  ]) {
    assert.throws(
      () => parseProfileArgs([...rankings, flag!, value!]),
      (error: Error) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, new RegExp(`^${flag} does not apply to hf_tei_rankings.*--rankings-passages-mean`));
        return true;
      },
    );
  }
  assert.throws(() => parseProfileArgs([...rankings, '--streaming']), /--streaming applies to --endpoint-type chat only/);
  assert.throws(
    () => parseProfileArgs([...rankings, '--input-file', 'x.jsonl', '--rankings-passages-mean', '3']),
    /shapes synthetic rankings inputs; with --input-file/,
  );
  const file = parseProfileArgs([...rankings, '--input-file', 'x.jsonl'])!;
  assert.deepEqual(file.inputs, { kind: 'file', path: 'x.jsonl', datasetType: 'single_turn' });
});

test('synthetic rankings: one query and the sampled number of passages, each of exact token length', () => {
  const counter = loadTokenCounter(BGE);
  const source = {
    kind: 'synthetic',
    tokensMean: 128,
    tokensStddev: 0,
    batchSizeText: 1,
    numDatasetEntries: 30,
    images: null,
    rankings: { ...DEFAULT_RANKINGS, passagesMean: 4, passageTokensMean: 20, queryTokensMean: 7 },
  } as const;
  const entries = buildSyntheticDataset(source, counter, 5, 6);
  assert.equal(entries.length, 6);
  for (const entry of entries) {
    assert.equal(counter.countTokens(entry.query!), 7);
    assert.equal(entry.texts.length, 4);
    for (const passage of entry.texts) assert.equal(counter.countTokens(passage), 20);
    assert.equal(entry.inputSequenceLength, 7 + 4 * 20);
    assert.deepEqual(entry.images, []);
  }
  assert.deepEqual(buildSyntheticDataset(source, counter, 5, 6), entries, 'seeded');
  // A stddev spreads the passage count (at least 1, as AIPerf's positive-normal sampling).
  const spread = buildSyntheticDataset(
    { ...source, rankings: { ...source.rankings, passagesMean: 3, passagesStddev: 2, passageTokensMean: 3 } },
    counter,
    9,
    40,
  );
  const counts = new Set(spread.map((entry) => entry.texts.length));
  assert.ok(counts.size >= 3, `passage counts ${[...counts]}`);
  assert.ok(Math.min(...counts) >= 1);
});

test('single_turn input file: named texts "query" (or "queries") and "passages"; anything else is refused clearly', () => {
  const file = join(scratch, 'rankings.jsonl');
  writeFileSync(
    file,
    [
      {
        texts: [
          { name: 'query', contents: ['what is a cat'] },
          { name: 'passages', contents: ['a cat is an animal', 'paris is a city'] },
        ],
      },
      {
        texts: [
          { name: 'queries', contents: ['capital of france'] },
          { name: 'passages', contents: ['paris'] },
          { name: 'passages', contents: ['rome'] },
        ],
      },
    ]
      .map((line) => `${JSON.stringify(line)}\n`)
      .join(''),
  );
  const counter = loadTokenCounter(BGE);
  const entries = loadInputFile(file, counter, { rankings: true });
  assert.deepEqual(
    entries.map(({ id, query, texts }) => ({ id, query, texts })),
    [
      { id: 'line_1', query: 'what is a cat', texts: ['a cat is an animal', 'paris is a city'] },
      { id: 'line_2', query: 'capital of france', texts: ['paris', 'rome'] },
    ],
  );
  assert.equal(
    entries[0]!.inputSequenceLength,
    counter.countTokens('what is a cat') + counter.countTokens('a cat is an animal') + counter.countTokens('paris is a city'),
  );
  // The same named texts on an embeddings endpoint are all embedded, as AIPerf's embeddings endpoint does.
  assert.deepEqual(loadInputFile(file, null)[1]!.texts, ['capital of france', 'paris', 'rome']);

  const refused = (line: unknown, pattern: RegExp) => {
    const bad = join(scratch, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify(line)}\n`);
    assert.throws(() => loadInputFile(bad, null, { rankings: true }), pattern);
  };
  refused({ text: 'just a text' }, /line 1: rankings reads texts named "query" and "passages", got "text"/);
  refused({ texts: ['a', 'b'] }, /got an unnamed text/);
  refused({ texts: [{ name: 'passages', contents: ['a'] }] }, /no text named "query"/);
  refused({ texts: [{ name: 'query', contents: ['q'] }] }, /no passages/);
  refused(
    {
      texts: [
        { name: 'query', contents: ['q1', 'q2'] },
        { name: 'passages', contents: ['a'] },
      ],
    },
    /2 queries; a rankings request has one/,
  );
  refused(
    {
      texts: [
        { name: 'query', contents: ['q'] },
        { name: 'passages', contents: ['a'] },
      ],
      image: 'x.png',
    },
    /carry no images/,
  );
});

const entry: DatasetEntry = { id: 'e0', query: 'what is a cat', texts: ['a cat is an animal', 'paris', 'cats purr'], images: [], inputSequenceLength: 13 };

function settings(endpointType: EndpointType, extraInputs: Record<string, unknown> = {}): PayloadSettings {
  return { endpointType, model: 'reranker', streaming: false, outputTokensMean: null, extraInputs };
}

test("request bodies are AIPerf's: TEI {query, texts}; Cohere {model, query, documents}; batch size = passages", () => {
  const tei = prepareRequest(entry, settings('hf_tei_rankings'));
  assert.deepEqual(tei.body, { query: 'what is a cat', texts: ['a cat is an animal', 'paris', 'cats purr'] });
  assert.equal(tei.json, JSON.stringify(tei.body));
  assert.equal(tei.expectedOutputs, 3);
  assert.equal(tei.batchSize, 3);
  assert.equal(tei.inputSequenceLength, 13);
  const cohere = prepareRequest(entry, settings('cohere_rankings', { top_n: 3, return_documents: false }));
  assert.deepEqual(cohere.body, {
    model: 'reranker',
    query: 'what is a cat',
    documents: ['a cat is an animal', 'paris', 'cats purr'],
    top_n: 3,
    return_documents: false,
  });
  assert.equal(cohere.batchSize, 3);
  assert.throws(() => prepareRequest({ ...entry, query: undefined }, settings('hf_tei_rankings')), /entry e0 has no query/);
});

function answer(body: unknown, status = 200): HttpExchange {
  return { startNs: 0n, ackNs: 1n, endNs: 2n, status, headers: {}, body: JSON.stringify(body), events: [], error: null };
}

test('a rankings answer counts only when it ranks every passage', () => {
  const tei = (body: unknown) => responseMetrics(answer(body), 'hf_tei_rankings', false, 3);
  const teiRanked = [
    { index: 2, score: 0.9 },
    { index: 0, score: 0.5 },
    { index: 1, score: 0.01 },
  ];
  assert.equal(tei(teiRanked).error, null);
  assert.equal(tei(teiRanked).usageInputTokens, null, 'TEI reports no usage');
  assert.equal(
    tei({ results: teiRanked.map(({ index, score }) => ({ index, relevance_score: score })) }).error,
    null,
    "AIPerf's TEI parser also reads results",
  );
  assert.match(tei(teiRanked.slice(0, 2)).error!.message, /expected 3 ranked passages, got 2/);
  assert.match(tei([...teiRanked.slice(0, 2), { index: 0, score: 0.1 }]).error!.message, /passage 0 is ranked twice/);
  assert.match(tei([...teiRanked.slice(0, 2), { index: 3, score: 0.1 }]).error!.message, /index 3 is not a passage index \(0\.\.2\)/);
  assert.match(tei([...teiRanked.slice(0, 2), { index: 1 }]).error!.message, /passage 1 has no numeric "score"/);
  assert.match(tei({ data: [] }).error!.message, /not a list of \{index, score\}/);
  assert.equal(tei({ data: [] }).error!.type, 'InvalidResponse');

  const cohere = (body: unknown) => responseMetrics(answer(body), 'cohere_rankings', false, 3);
  const results = teiRanked.map(({ index, score }) => ({ index, relevance_score: score, document: { text: 'x' } }));
  const ok = cohere({ id: 'r', model: 'reranker', usage: { prompt_tokens: 42, total_tokens: 42 }, results });
  assert.equal(ok.error, null);
  assert.equal(ok.usageInputTokens, 42);
  assert.equal(cohere({ results, meta: { billed_units: { search_units: 1 } } }).usageInputTokens, null);
  assert.match(cohere({ results: results.slice(1) }).error!.message, /expected 3 ranked passages, got 2/);
  assert.match(cohere(teiRanked).error!.message, /no "results" list/);
  assert.match(cohere({ results: teiRanked }).error!.message, /no numeric "relevance_score"/);
  assert.match(responseMetrics({ ...answer(null), body: 'nope' }, 'cohere_rankings', false, 3).error!.message, /not JSON/);
});
