// `npm run bench:before-after -- --ref <commit> [--script bench:serve] [--rounds 3] [--metric texts/s] [-- args]`:
// runs one benchmark script on an earlier commit and on this checkout, alternating (before, after, after, before, ...
// so drift on a shared machine falls on both sides alike), and prints the metric of every table row side by side with
// the median ratio after / before. A redesign that promises "no slowdown" is checked with this.
//
// The earlier commit gets its own worktree under .artifacts/before-<sha> (installed with `npm ci`, which builds its
// addon), kept for the next run. Rows are matched by the table cells left of the metric's column (for bench:serve:
// path, texts/req, concurrency).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { formatTable } from './stats.js';

const separator = process.argv.indexOf('--');
const ownArgs = separator === -1 ? process.argv.slice(2) : process.argv.slice(2, separator);
const scriptArgs = separator === -1 ? [] : process.argv.slice(separator + 1);
const { values } = parseArgs({
  args: ownArgs,
  options: {
    ref: { type: 'string' },
    script: { type: 'string', default: 'bench:serve' },
    rounds: { type: 'string', default: '3' },
    metric: { type: 'string', default: 'texts/s' },
  },
});

if (values.ref === undefined) {
  console.error('usage: npm run bench:before-after -- --ref <commit> [--script bench:serve] [--rounds 3] [--metric texts/s] [-- script args]');
  process.exit(2);
}
const rounds = Number(values.rounds);
// Throughput-like metrics (texts/s, tokens/s, GFLOP/s) are better higher; latencies (ms) lower.
const higherIsBetter = !/ms\b|latency|seconds|\bs$/.test(values.metric);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);

const here = resolve('.');
const sha = execFileSync('git', ['rev-parse', '--short=12', `${values.ref}^{commit}`], { encoding: 'utf8' }).trim();
const beforeDir = join(here, '.artifacts', `before-${sha}`);

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd} exited with ${result.status}:\n${result.stdout}`);
  return result.stdout;
}

if (!existsSync(join(beforeDir, 'node_modules'))) {
  mkdirSync(join(here, '.artifacts'), { recursive: true });
  if (!existsSync(beforeDir)) run('git', ['worktree', 'add', '--detach', beforeDir, sha], here);
  console.log(`installing ${sha} in ${beforeDir} (npm ci builds its addon)`);
  run('npm', ['ci', '--no-audit', '--no-fund'], beforeDir);
}

/**
 * bench:peers prints one line per workload, `bge-small  32 x 128  MEAN ORT  2563.5 ms | float32  1641.2 ms 1.56x ...`:
 * the metric there is our speed relative to ONNX Runtime timed in the same run (`--metric float32` or `bfloat16`), a
 * yardstick that cancels most of the machine's noise.
 */
function parsePeers(output: string, engine: string): Map<string, number> {
  const rows = new Map<string, number>();
  const pattern = new RegExp(`^(\\S+\\s+\\d+ x \\d+\\s+\\S+)\\s+ORT.*?\\| ${engine}\\s+[\\d.]+ ms ([\\d.]+)x`);
  for (const line of output.split('\n')) {
    const match = pattern.exec(line.trim());
    if (match !== null) rows.set(match[1].replace(/\s+/g, ' '), Number(match[2]));
  }
  if (rows.size === 0) throw new Error(`no bench:peers rows with a '${engine}' column in:\n${output}`);
  return rows;
}

/** The metric of each row of the table whose header names it, keyed by the cells left of the metric's column. */
function parseTable(output: string, metric: string): Map<string, number> {
  if (values.script === 'bench:peers') return parsePeers(output, metric);
  const lines = output.split('\n').map((line) => line.trim());
  const cells = (line: string): string[] => line.split(/\s{2,}/);
  const headerIndex = lines.findIndex((line) => cells(line).includes(metric));
  if (headerIndex === -1) throw new Error(`no table with a '${metric}' column in:\n${output}`);
  const column = cells(lines[headerIndex]).indexOf(metric);
  const rows = new Map<string, number>();
  for (const line of lines.slice(headerIndex + 2)) {
    const row = cells(line);
    if (line === '' || row.length <= column) break;
    const value = Number(row[column]);
    if (Number.isFinite(value)) rows.set(row.slice(0, column).join(' / '), value);
  }
  return rows;
}

const samples = { before: new Map<string, number[]>(), after: new Map<string, number[]>() };
for (let round = 0; round < rounds; round++) {
  const order: ('before' | 'after')[] = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const side of order) {
    const output = run('npm', ['run', '--silent', values.script, '--', ...scriptArgs], side === 'before' ? beforeDir : here);
    for (const [key, value] of parseTable(output, values.metric)) {
      const list = samples[side].get(key) ?? [];
      list.push(value);
      samples[side].set(key, list);
    }
    console.log(`round ${round + 1}/${rounds}: ${side} done`);
  }
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const rows: string[][] = [];
const ratios: number[] = [];
for (const [key, before] of samples.before) {
  const after = samples.after.get(key);
  if (after === undefined) continue;
  const ratio = median(after) / median(before);
  ratios.push(ratio);
  // Interference from other work on a shared machine only slows a run down, so the best round of each side is the
  // steadier estimate when rounds disagree; both are printed.
  const best = (xs: readonly number[]) => (higherIsBetter ? Math.max(...xs) : Math.min(...xs));
  rows.push([
    key,
    before.map((v) => v.toFixed(1)).join(' '),
    after.map((v) => v.toFixed(1)).join(' '),
    ratio.toFixed(3),
    (best(after) / best(before)).toFixed(3),
  ]);
}
console.log(`\n${values.script} ${scriptArgs.join(' ')}: ${values.metric}, before = ${sha}, after = this checkout, ${rounds} rounds`);
console.log(formatTable(['row', 'before', 'after', 'after / before (medians)', 'after / before (best rounds)'], rows));
console.log(`\nmedian ratio over rows: ${median(ratios).toFixed(3)} (1.000 = no change; higher is faster for throughput metrics)`);
