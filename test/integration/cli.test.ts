// The `pooled` command as a user runs it (bin/pooled.js over the compiled dist/, which `npm test` builds first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fixtureModel } from '../fixtures/generate.js';

const BIN = fileURLToPath(new URL('../../bin/pooled.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pooled ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `pooled serve` and resolves once it prints its listen line. */
async function startServeProcess(model: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--model', model, '--port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line:\n${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { child, url, output: () => out };
}

test('pooled demo --once serves the random demo checkpoint and prints a request and its result', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'pooled-demo-cache-'));
  const { code, stdout, stderr } = await run(['demo', '--port', '0', '--once'], { POOLED_CACHE: cache });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /RANDOM WEIGHTS/);
  assert.match(stdout, /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings/);
  assert.match(stdout, /Result \(HTTP 200, 24 prompt tokens\)/);
  assert.match(stdout, /data\[0\]\.embedding = \[-?\d\.\d{5}, .*\(384 values\)/);
});

test('pooled serve answers, then exits 0 on SIGTERM', async () => {
  const model = await fixtureModel('e5-small', { shrink: { numLayers: 1, hiddenSize: 32, numHeads: 2, intermediateSize: 64 } });
  const { child, url, output } = await startServeProcess(model);
  assert.match(output(), /"pooling":"mean"/); // the effective settings are logged at start
  const res = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"query: hi"}' });
  assert.equal(res.status, 200);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('bad flags and unloadable models fail with a clear message and a non-zero exit', async () => {
  const noModel = await run(['serve']);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /--model is required/);
  const badBackend = await run(['serve', '--model', 'x', '--backend', 'tpu']);
  assert.equal(badBackend.code, 2);
  assert.match(badBackend.stderr, /--backend must be one of/);
  const missing = await run(['serve', '--model', '/nonexistent/folder'], { HF_HUB_OFFLINE: '1' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot load the model/);
  const unknown = await run(['frobnicate']);
  assert.equal(unknown.code, 2);
  const help = await run(['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--max-num-batched-tokens/);
});

test('SIGTERM during a request: the admitted request still completes, then the process exits 0', async () => {
  const model = await fixtureModel('e5-small', { shrink: { numLayers: 1 } });
  const { child, url, output } = await startServeProcess(model);
  const input = Array.from({ length: 64 }, (_, i) => `passage: document number ${i} with a few more words to embed`);
  const pending = fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
  await new Promise((r) => setTimeout(r, 150));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { data: unknown[] }).data.length, 64);
  assert.equal(await exited, 0);
  assert.match(output(), /shutting down/);
});
