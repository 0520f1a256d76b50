// The path every embedding-producing route shares: validate dimensions, tokenize (off-thread when large), queue
// under the request's priority and deadline, then report timings and metrics.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { EmbedInput, EmbedOptions, EmbedResult, RequestControl } from '../engine/embedder.js';
import type { RouteContext } from './context.js';
import { reportTimings, requestControl } from './request_control.js';

export async function embedForRequest(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  inputs: readonly EmbedInput[],
  opts: EmbedOptions,
  scheduling: Pick<RequestControl, 'priority' | 'cacheSalt'> = {},
): Promise<EmbedResult> {
  ctx.embedder.requireEmbedTask();
  const dimensions = ctx.embedder.resolveDimensions(opts.dimensions, opts.fieldNames?.dimensions);
  const { sequences, tokenizationSeconds } = await ctx.embedder.prepare(inputs, opts);
  const control = requestControl(request, reply, ctx.options.requestTimeoutSeconds, scheduling);
  const result = await ctx.embedder.embedSequences(sequences, { ...opts, dimensions }, control);
  reportTimings(request, reply, ctx.metrics, tokenizationSeconds, result, sequences);
  return result;
}

/** vLLM's truncate_prompt_tokens / truncation_side onto our options: -1 = the model's max; default keeps the end. */
export function vllmTruncation(
  truncatePromptTokens: number | undefined,
  truncationSide: 'left' | 'right' | undefined,
): Pick<EmbedOptions, 'maxLength' | 'fieldNames' | 'truncate'> {
  if (truncatePromptTokens === undefined) return {};
  // vLLM: "If set to an integer k, will use only the last k tokens from the prompt (i.e., left truncation)".
  return { maxLength: truncatePromptTokens, fieldNames: { maxLength: 'truncate_prompt_tokens' }, truncate: truncationSide === 'right' ? 'end' : 'start' };
}
