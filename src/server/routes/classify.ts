// POST /classify (vLLM's shape) and POST /predict (TEI's shape): a classification model's labels for texts (and, on
// /predict, text pairs), from its sequence-classification head.
//   /classify: {input: string | string[], use_activation?, truncate_prompt_tokens?} ->
//              {data: [{index, label, probs, num_classes}]} (probs: softmax over labels, sigmoid for one label or a
//              multi-label model; raw logits with use_activation false)
//   /predict:  {inputs: text | [text, text] | list of those, raw_scores?, truncate?, truncation_direction?} ->
//              [{label, score}] sorted by score (a list of such lists for a batch), as TEI answers
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

import type { ClassifyInput } from '../../engine/embedder.js';
import { InvalidRequestError } from '../../errors.js';
import { classifyForRequest, teiTruncation } from '../classify_request.js';
import type { RouteContext } from '../context.js';
import { vllmTruncation } from '../embed_request.js';
import { checkModelName } from '../model_name.js';
import { EMBED_ROUTE_ERRORS, errorResponses, listResponseSchema } from '../schemas/common.js';

interface ClassifyBody {
  model?: string;
  input: string | string[];
  use_activation?: boolean;
  truncate_prompt_tokens?: number;
  priority?: number;
  request_id?: string;
}

interface PredictBody {
  inputs: string | string[] | (string | string[])[];
  raw_scores?: boolean;
  truncate?: boolean;
  truncation_direction?: 'Left' | 'Right' | 'left' | 'right';
}

const textOrList = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  ],
};

const classifyResponse = listResponseSchema('classification', {
  label: { type: 'string' },
  probs: { type: 'array', items: { type: 'number' } },
  num_classes: { type: 'integer' },
});

const prediction = { type: 'object', required: ['label', 'score'], properties: { label: { type: 'string' }, score: { type: 'number' } } };

/**
 * TEI's PredictInput (serde untagged: a single sequence is tried first): a string is one text; a list of exactly two
 * strings is one pair; any other list is a batch whose items are texts or [text, text] pairs.
 */
export function parsePredictInputs(inputs: unknown): { inputs: ClassifyInput[]; batch: boolean } {
  const isText = (value: unknown): value is string => typeof value === 'string';
  const asInput = (value: unknown, param: string): ClassifyInput => {
    if (isText(value)) return value;
    if (Array.isArray(value) && value.length === 2 && value.every(isText)) return [value[0], value[1]];
    throw new InvalidRequestError(`${param} must be a text or a pair [text, text].`, param);
  };
  if (isText(inputs)) return { inputs: [inputs], batch: false };
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new InvalidRequestError('inputs must be a text, a pair [text, text], or a non-empty list of those.', 'inputs');
  if (inputs.length === 2 && inputs.every(isText)) return { inputs: [[inputs[0], inputs[1]]], batch: false };
  return { inputs: inputs.map((item, i) => asInput(item, `inputs[${i}]`)), batch: true };
}

export function registerClassifyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: ClassifyBody }>(
    '/classify',
    {
      schema: {
        tags: ['vLLM'],
        summary: "Labels of texts from a classification model's head (vLLM)",
        body: {
          type: 'object',
          required: ['input'],
          properties: {
            model: { type: 'string' },
            input: textOrList,
            use_activation: { type: 'boolean' },
            truncate_prompt_tokens: { type: 'integer', minimum: -1 },
            priority: { type: 'integer' },
            request_id: { type: 'string' },
          },
        },
        response: { 200: classifyResponse, ...errorResponses(...EMBED_ROUTE_ERRORS) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      checkModelName(ctx.embedder, body.model);
      const head = ctx.embedder.requireHead('/classify');
      const texts = typeof body.input === 'string' ? [body.input] : body.input;
      const result = await classifyForRequest(ctx, request, reply, texts, vllmTruncation(body.truncate_prompt_tokens, undefined), body.priority);
      const useActivation = body.use_activation ?? true;
      return {
        id: `classify-${body.request_id ?? randomUUID()}`,
        object: 'list',
        created: Math.floor(Date.now() / 1000),
        model: ctx.embedder.id,
        data: result.logits.map((logits, index) => {
          const probs = Array.from(ctx.embedder.classProbabilities(logits, useActivation));
          let best = 0;
          for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
          return { index, object: 'classification', label: head.labels[best], probs, num_classes: head.numLabels };
        }),
        usage: { prompt_tokens: result.numPromptTokens, total_tokens: result.numPromptTokens },
      };
    },
  );

  app.post<{ Body: PredictBody }>(
    '/predict',
    {
      schema: {
        tags: ['TEI'],
        summary: "Labels of texts or text pairs from a classification model's head (TEI)",
        body: {
          type: 'object',
          required: ['inputs'],
          properties: {
            inputs: {
              anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, items: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } }],
            },
            raw_scores: { type: 'boolean' },
            truncate: { type: 'boolean' },
            truncation_direction: { type: 'string', enum: ['Left', 'Right', 'left', 'right'] },
          },
        },
        response: {
          200: {
            anyOf: [
              { type: 'array', items: prediction },
              { type: 'array', items: { type: 'array', items: prediction } },
            ],
          },
          ...errorResponses(...EMBED_ROUTE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const head = ctx.embedder.requireHead('/predict');
      const { inputs, batch } = parsePredictInputs(body.inputs);
      const result = await classifyForRequest(ctx, request, reply, inputs, teiTruncation(body.truncate, body.truncation_direction), undefined);
      const predictions = result.logits.map((logits) => {
        const scores = ctx.embedder.classProbabilities(logits, body.raw_scores !== true);
        return Array.from(scores, (score, k) => ({ label: head.labels[k], score })).sort((a, b) => b.score - a.score);
      });
      return batch ? predictions : predictions[0];
    },
  );
}
