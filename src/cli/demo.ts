// `pooled demo` (what `npm run demo` runs): build the bundled demo checkpoint (all-MiniLM-L6-v2's exact layout
// and tokenizer with seeded RANDOM weights, generated once and cached), serve it on port 8000, send a sample
// request through HTTP and print it with its result. The vectors are meaningless: the weights are random.
import { parseArgs } from 'node:util';

import { parseServeArgs } from './serve_options.js';
import { ensureSyntheticModel } from '../model/synthetic_cache.js';
import { closeOnSignals, reportStartupError, startServer, type RunningServer } from './serve.js';

const DEMO_SEED = 20261123;
const SAMPLE_TEXTS = ['The quick brown fox jumps over the lazy dog.', 'A fast auburn fox leaps over a sleepy hound.'];

const BANNER = `
  #####################################################################
  #  DEMO MODEL: RANDOM WEIGHTS. Real all-MiniLM-L6-v2 layout and     #
  #  tokenizer, but the weights are seeded noise, not a trained model. #
  #  The numbers below show the pipeline works; they mean nothing.     #
  #  Serve a real model with: pooled serve --model <folder | HF id>    #
  #####################################################################
`;

/** Generates the demo checkpoint once; later runs reuse it. */
export function ensureDemoModel(): Promise<string> {
  return ensureSyntheticModel('all-minilm', { seed: DEMO_SEED, label: 'demo' });
}

export async function runDemoCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, backend: { type: 'string' }, once: { type: 'boolean' } },
    }).values;
  } catch (err) {
    process.stderr.write(`pooled demo: ${(err as Error).message}\nusage: pooled demo [--port 8000] [--host 127.0.0.1] [--backend B] [--once]\n`);
    return 2;
  }
  process.stdout.write(BANNER);
  process.stdout.write('Preparing the demo checkpoint (generated once, then cached)...\n');
  let server: RunningServer;
  try {
    const model = await ensureDemoModel();
    const args = ['--model', model, '--served-model-name', 'demo-all-MiniLM-L6-v2-RANDOM', '--log-level', 'warn'];
    args.push('--port', parsed.port ?? '8000', '--host', parsed.host ?? '127.0.0.1');
    if (parsed.backend) args.push('--backend', parsed.backend);
    const opts = parseServeArgs(args);
    if (opts === 'help') return 0;
    server = await startServer(opts);
  } catch (err) {
    return reportStartupError(err);
  }
  const body = { model: server.embedder.id, input: SAMPLE_TEXTS };
  const url = `${server.url}/v1/embeddings`;
  process.stdout.write(
    `\nServing ${server.embedder.id} at ${server.url} (backend ${server.embedder.backend.name}).\n\nSample request:\n` +
      `  curl -s ${url} -H 'Content-Type: application/json' \\\n    -d '${JSON.stringify(body)}'\n\n`,
  );
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const result = (await response.json()) as { data: { embedding: number[] }[]; usage: { prompt_tokens: number } };
  if (!response.ok) {
    process.stderr.write(`Sample request failed with ${response.status}: ${JSON.stringify(result)}\n`);
    await server.close();
    return 1;
  }
  const [a, b] = result.data.map((d) => d.embedding);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  const preview = (v: number[]) =>
    `[${v
      .slice(0, 6)
      .map((x) => x.toFixed(5))
      .join(', ')}, ...] (${v.length} values)`;
  process.stdout.write(
    `Result (HTTP ${response.status}, ${result.usage.prompt_tokens} prompt tokens):\n` +
      `  data[0].embedding = ${preview(a)}\n  data[1].embedding = ${preview(b)}\n` +
      `  cosine(data[0], data[1]) = ${dot.toFixed(5)}  (normalized vectors; RANDOM weights, so this means nothing)\n\n`,
  );
  if (parsed.once) {
    await server.close();
    return 0;
  }
  process.stdout.write('The server keeps running; press Ctrl+C to stop.\n');
  return closeOnSignals(server);
}
