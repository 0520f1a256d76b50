// Every encoder family the WebGPU backend runs: one line per family (docs/adding-an-architecture.md, "The WebGPU
// encoder"). Decoders with a paged KV cache have their own backend class (../qwen3_backend.ts).
import type { WebGpuEncoderBuilder } from '../encoder_builder.js';
import { BERT_WEBGPU_ENCODER } from './bert.js';
import { ERNIE_WEBGPU_ENCODER } from './ernie.js';
import { MODERNBERT_WEBGPU_ENCODER } from './modernbert.js';
import { ROBERTA_WEBGPU_ENCODER } from './roberta.js';
import { GTE_WEBGPU_ENCODER, NOMIC_BERT_WEBGPU_ENCODER } from './rotary_bert.js';

export const WEBGPU_ENCODERS: readonly WebGpuEncoderBuilder[] = [
  BERT_WEBGPU_ENCODER,
  ROBERTA_WEBGPU_ENCODER,
  ERNIE_WEBGPU_ENCODER,
  NOMIC_BERT_WEBGPU_ENCODER,
  GTE_WEBGPU_ENCODER,
  MODERNBERT_WEBGPU_ENCODER,
];

/** The encoder builder of a family, or undefined when the WebGPU backend has no encoder for it. */
export function webGpuEncoderFor(architecture: string): WebGpuEncoderBuilder | undefined {
  return WEBGPU_ENCODERS.find((encoder) => encoder.spec.name === architecture);
}
