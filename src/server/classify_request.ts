// The path the classification routes share (/classify, /predict, /score and /rerank on a cross-encoder): texts and text
// pairs through the encoder and the model's head under the request's priority and deadline, timings and metrics
// reported as the embedding routes report them.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { ClassifyInput, ClassifyResult, EmbedOptions, PairScoreResult } from '../engine/embedder.js';
import { InvalidRequestError } from '../errors.js';
import type { RouteContext } from './context.js';
import { reportTimings, requestControl } from './request_control.js';

export async function classifyForRequest(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  inputs: readonly ClassifyInput[],
  opts: EmbedOptions,
  priority: number | undefined,
): Promise<ClassifyResult> {
  checkCount(ctx, inputs.length, 'input');
  const control = requestControl(request, reply, ctx.options.requestTimeoutSeconds, { priority });
  const result = await ctx.embedder.classifyInputs(inputs, opts, control);
  reportTimings(request, reply, ctx.metrics, result.tokenizationSeconds, result, result.sequences);
  return result;
}

export async function scorePairsForRequest(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  pairs: readonly (readonly [string, string])[],
  opts: EmbedOptions & { readonly useActivation?: boolean },
  priority: number | undefined,
  param: string,
): Promise<PairScoreResult> {
  checkCount(ctx, pairs.length, param);
  const control = requestControl(request, reply, ctx.options.requestTimeoutSeconds, { priority });
  const result = await ctx.embedder.scorePairs(pairs, opts, control);
  reportTimings(request, reply, ctx.metrics, result.tokenizationSeconds, result, result.sequences);
  return result;
}

function checkCount(ctx: RouteContext, count: number, param: string): void {
  if (count === 0) throw new InvalidRequestError(`${param} must not be empty.`, param);
  if (count > ctx.options.maxInputsPerRequest) {
    throw new InvalidRequestError(`Too many inputs: at most ${ctx.options.maxInputsPerRequest} per request.`, param, 'too_many_inputs', 413);
  }
}

/** TEI's truncate / truncation_direction onto our options (TEI: truncate defaults to false: too long is a 4xx). */
export function teiTruncation(truncate: boolean | undefined, direction: 'Left' | 'Right' | 'left' | 'right' | undefined): Pick<EmbedOptions, 'truncate'> {
  if (truncate !== true) return { truncate: 'none' };
  return { truncate: direction === 'Left' || direction === 'left' ? 'start' : 'end' };
}
