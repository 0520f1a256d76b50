// GET /openapi.json and GET /docs: the document lists every route with its request-body and response schemas
// (errors in OpenAI's shape under their status codes), is tailored to the served model, holds the answers the
// routes really give, follows --api-key and --unauthenticated-routes, and Swagger UI serves HTML.
// test/upstream/test_openapi.py fuzzes the same document with schemathesis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';

import { Embedder } from '../../src/engine/embedder.js';
import { buildServer, type PooledServer } from '../../src/server/app.js';
import { patchedFixtureModel } from '../helpers/patched_model.js';

const SHRINK = { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 };
const MATRYOSHKA = [8, 16, 32];

/** Every route the server answers, as "METHOD /path". */
const ROUTES = [
  'GET /health',
  'GET /ready',
  'GET /info',
  'GET /v1/models',
  'GET /metrics',
  'POST /v1/embeddings',
  'POST /v2/embed',
  'POST /pooling',
  'POST /score',
  'POST /v1/score',
  'POST /rerank',
  'POST /v1/rerank',
  'POST /v2/rerank',
  'POST /classify',
  'POST /predict',
  'POST /tokenize',
  'POST /detokenize',
];

type Json = Record<string, any>;

let embedder: Embedder;
let app: PooledServer;
let doc: Json;

before(async () => {
  const modelPath = await patchedFixtureModel(
    'e5-small',
    { shrink: SHRINK },
    {
      'config.json': { is_matryoshka: true, matryoshka_dimensions: MATRYOSHKA },
      'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ' } },
    },
  );
  embedder = await Embedder.load(modelPath, { backend: 'reference', servedModelName: 'e5', maxModelLen: 24, tokenizerWorkers: 0 });
  app = buildServer(embedder);
  app.markReady();
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /application\/json/);
  doc = res.json();
});
after(async () => {
  await app.close();
  await embedder.close();
});

function operations(document: Json): string[] {
  return Object.entries(document.paths as Json).flatMap(([path, ops]) => Object.keys(ops as Json).map((m) => `${m.toUpperCase()} ${path}`));
}

function operation(route: string): Json {
  const [method, path] = route.split(' ');
  return doc.paths[path][method.toLowerCase()];
}

const jsonSchemaOf = (response: Json) => response.content['application/json'].schema as Json;

describe('/openapi.json', () => {
  test('is OpenAPI 3 and lists exactly the served routes', () => {
    assert.match(doc.openapi, /^3\./);
    assert.equal(doc.info.title, 'pooled');
    assert.deepEqual(operations(doc).sort(), [...ROUTES].sort());
  });

  test('every route declares its 200 and error responses; every POST its JSON request body', () => {
    for (const route of ROUTES) {
      const op = operation(route);
      assert.ok(op.summary, `${route} has a summary`);
      assert.ok(op.responses['200'], `${route} documents 200`);
      assert.ok(op.responses['500'], `${route} documents 500`);
      for (const [status, response] of Object.entries(op.responses as Json)) {
        if (status === '200') continue;
        const error = jsonSchemaOf(response).properties.error;
        assert.deepEqual(error.required, ['message', 'type', 'param', 'code'], `${route} ${status} is an OpenAI error`);
        assert.ok((response as Json).description, `${route} ${status} says when`);
      }
      if (route.startsWith('POST')) {
        const body = op.requestBody.content['application/json'].schema;
        assert.equal(body.type, 'object', route);
        for (const status of ['400', '413', '415']) assert.ok(op.responses[status], `${route} documents ${status}`);
      }
    }
    for (const route of ['POST /v1/embeddings', 'POST /v2/embed', 'POST /pooling', 'POST /score']) {
      for (const status of ['404', '408', '429', '503']) assert.ok(operation(route).responses[status], `${route} documents ${status}`);
    }
    assert.ok(operation('POST /v1/embeddings').responses['429'].headers['retry-after']);
    assert.ok(operation('POST /detokenize').responses['422']);
    assert.ok(operation('GET /ready').responses['503']);
    assert.ok(operation('GET /metrics').responses['200'].content['text/plain']);
  });

  test('request bodies spell out what the handlers accept, for the served model', () => {
    const body = operation('POST /v1/embeddings').requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['input']);
    assert.equal(body.properties.input.anyOf.length, 4);
    const tokenIds = body.properties.input.anyOf[2].items;
    assert.deepEqual([tokenIds.minimum, tokenIds.maximum], [0, embedder.model.config.vocabSize - 1]);
    assert.deepEqual(body.properties.model.enum, ['e5']);
    assert.deepEqual(body.properties.dimensions.enum, MATRYOSHKA);
    assert.deepEqual(body.properties.prompt_name.enum, ['query', 'passage']);
    assert.deepEqual(body.properties.encoding_format.enum, ['float', 'base64']);
    const cohere = operation('POST /v2/embed').requestBody.content['application/json'].schema;
    assert.deepEqual(cohere.required, ['texts']);
    assert.deepEqual(cohere.properties.output_dimension.enum, MATRYOSHKA);
    assert.equal(cohere.properties.max_tokens.maximum, 24);
    // text_1 / text_2, or vLLM's newer queries / documents.
    assert.deepEqual(
      operation('POST /score').requestBody.content['application/json'].schema.anyOf.map((branch: { required: string[] }) => branch.required),
      [
        ['text_1', 'text_2'],
        ['queries', 'documents'],
      ],
    );
  });

  test('a model without Matryoshka training documents no dimensions', async () => {
    const plainPath = await patchedFixtureModel('e5-small', { shrink: SHRINK }, {});
    const plain = await Embedder.load(plainPath, { backend: 'reference', tokenizerWorkers: 0 });
    const plainApp = buildServer(plain);
    try {
      const plainDoc = (await plainApp.inject({ method: 'GET', url: '/openapi.json' })).json();
      const body = plainDoc.paths['/v1/embeddings'].post.requestBody.content['application/json'].schema;
      assert.equal(body.properties.dimensions, undefined);
      assert.deepEqual(body.properties.prompt_name.enum, Object.keys(plain.model.settings.prompts));
      assert.equal(plainDoc.paths['/v2/embed'].post.requestBody.content['application/json'].schema.properties.output_dimension, undefined);
    } finally {
      await plainApp.close();
      await plain.close();
    }
  });

  test('the routes answer what the document says (success and errors)', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const cases: { route: string; payload?: unknown; status: number }[] = [
      { route: 'GET /health', status: 200 },
      { route: 'GET /ready', status: 200 },
      { route: 'GET /info', status: 200 },
      { route: 'GET /v1/models', status: 200 },
      { route: 'POST /v1/embeddings', payload: { input: ['a', 'b c'] }, status: 200 },
      { route: 'POST /v1/embeddings', payload: { input: [[5, 6]], encoding_format: 'base64', dimensions: 16 }, status: 200 },
      { route: 'POST /v1/embeddings', payload: { input: '' }, status: 400 },
      { route: 'POST /v1/embeddings', payload: { input: 'a', model: 'other' }, status: 404 },
      { route: 'POST /v1/embeddings', payload: { input: [[10 ** 9]] }, status: 422 },
      { route: 'POST /v2/embed', payload: { texts: ['a'], embedding_types: ['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64'] }, status: 200 },
      { route: 'POST /v2/embed', payload: { texts: [] }, status: 400 },
      { route: 'POST /pooling', payload: { input: 'a' }, status: 200 },
      { route: 'POST /score', payload: { text_1: 'a', text_2: ['b', 'c'] }, status: 200 },
      { route: 'POST /v1/score', payload: { queries: 'a', documents: ['b', 'c'] }, status: 200 },
      // An embedding model reranks by cosine; its classification routes refuse (no head).
      { route: 'POST /rerank', payload: { query: 'a', documents: ['b', { text: 'c' }], top_n: 1 }, status: 200 },
      { route: 'POST /rerank', payload: { query: 'a', texts: ['b', 'c'], return_text: true }, status: 200 },
      { route: 'POST /v2/rerank', payload: { query: 'a', documents: ['b'] }, status: 200 },
      { route: 'POST /classify', payload: { input: 'a' }, status: 400 },
      { route: 'POST /predict', payload: { inputs: 'a' }, status: 400 },
      { route: 'POST /tokenize', payload: { prompt: 'hello', return_token_strs: true }, status: 200 },
      { route: 'POST /detokenize', payload: { tokens: [5, 6] }, status: 200 },
      { route: 'POST /detokenize', payload: { tokens: [-1] }, status: 422 },
    ];
    for (const { route, payload, status } of cases) {
      const [method, url] = route.split(' ');
      const res = await app.inject({ method: method as 'GET' | 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }) });
      assert.equal(res.statusCode, status, `${route} ${JSON.stringify(payload)}: ${res.body}`);
      const validate = ajv.compile(jsonSchemaOf(operation(route).responses[String(status)]));
      assert.ok(validate(res.json()), `${route} ${status}: ${ajv.errorsText(validate.errors)}\n${res.body.slice(0, 400)}`);
    }
  });

  test('an empty token list detokenizes to the empty text (schemathesis found a 500)', async () => {
    const res = await app.inject({ method: 'POST', url: '/detokenize', payload: { tokens: [] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { prompt: '' });
  });

  test('without --api-key no security is declared', () => {
    assert.equal(doc.components?.securitySchemes, undefined);
    assert.equal(operation('POST /v1/embeddings').security, undefined);
    assert.equal(operation('POST /v1/embeddings').responses['401'], undefined);
  });
});

describe('/docs', () => {
  test('serves Swagger UI over the same document', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /swagger-ui/i);
    const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
    const uiDoc = await app.inject({ method: 'GET', url: '/docs/json' });
    assert.deepEqual(operations(uiDoc.json()).sort(), [...ROUTES].sort());
  });
});

describe('with --api-key', () => {
  const key = 'secret';
  const bearer = { authorization: `Bearer ${key}` };

  test('/openapi.json and /docs need the key by default; the document marks the protected routes', async () => {
    const keyed = buildServer(embedder, { apiKey: key });
    try {
      for (const url of ['/openapi.json', '/docs', '/docs/static/swagger-ui-bundle.js', '/docs/json']) {
        const res = await keyed.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 401, url);
        assert.equal(res.json().error.type, 'authentication_error');
      }
      assert.equal((await keyed.inject({ method: 'GET', url: '/docs', headers: bearer })).statusCode, 200);
      const res = await keyed.inject({ method: 'GET', url: '/openapi.json', headers: bearer });
      assert.equal(res.statusCode, 200);
      const keyedDoc = res.json();
      assert.deepEqual(keyedDoc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' });
      const embeddings = keyedDoc.paths['/v1/embeddings'].post;
      assert.deepEqual(embeddings.security, [{ bearerAuth: [] }]);
      assert.ok(embeddings.responses['401']);
      // The default unauthenticated routes stay open, and say so.
      for (const path of ['/health', '/ready', '/metrics']) {
        assert.deepEqual(keyedDoc.paths[path].get.security, [], path);
        assert.equal(keyedDoc.paths[path].get.responses['401'], undefined, path);
      }
      assert.deepEqual(keyedDoc.paths['/info'].get.security, [{ bearerAuth: [] }]);
    } finally {
      await keyed.close();
    }
  });

  test('listing /openapi.json and /docs in --unauthenticated-routes publishes them (the UI with its assets)', async () => {
    const keyed = buildServer(embedder, { apiKey: key, unauthenticatedRoutes: ['/health', '/openapi.json', '/docs'] });
    try {
      for (const url of ['/openapi.json', '/docs', '/docs/', '/docs/static/swagger-ui-bundle.js', '/docs/json']) {
        assert.equal((await keyed.inject({ method: 'GET', url })).statusCode, 200, url);
      }
      const res = await keyed.inject({ method: 'POST', url: '/v1/embeddings', payload: { input: 'a' } });
      assert.equal(res.statusCode, 401);
      assert.equal((await keyed.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    } finally {
      await keyed.close();
    }
  });
});
