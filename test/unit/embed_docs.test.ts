// The `pooled embed` command lines in the docs and the Kubernetes manifest stay valid as flags evolve: each one is
// extracted, its shell variables filled in, and parsed by the real flag parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { parseEmbedArgs, type EmbedCommandOptions } from '../../src/cli/embed_options.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHELL_VALUES: Record<string, string> = { JOB_COMPLETION_INDEX: '3', SLURM_ARRAY_TASK_ID: '5' };

/** `pooled embed ...` command lines (continuation lines joined) of a shell script. */
function embedCommands(script: string): string[] {
  const joined = script.replace(/\\\n\s*/g, ' ');
  return [...joined.matchAll(/^\s*(?:.*&& exec )?pooled embed ([^\n]*)/gm)].map((m) => m[1].trim());
}

/** The ```sh blocks of a markdown file, as one script. */
function shellBlocks(markdown: string): string {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

/** A small shell word splitter: $VAR and $(printf '%05d' ...) filled in, quotes removed. */
function shellWords(command: string): string[] {
  const filled = command
    .replace(/\$\(printf '%05d' "?\$(\w+)"?\)/g, (_, name: string) => SHELL_VALUES[name].padStart(5, '0'))
    .replace(/\$(\w+)/g, (_, name: string) => {
      assert.ok(Object.hasOwn(SHELL_VALUES, name), `unknown shell variable $${name}`);
      return SHELL_VALUES[name];
    });
  const words: string[] = [];
  for (const m of filled.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

function parse(command: string): EmbedCommandOptions {
  const parsed = parseEmbedArgs(shellWords(command), {});
  assert.notEqual(parsed, 'help');
  return parsed as EmbedCommandOptions;
}

test('every pooled embed command in the docs parses', async () => {
  let count = 0;
  for (const file of ['docs/embed.md', 'README.md']) {
    for (const command of embedCommands(shellBlocks(await readFile(`${REPO_ROOT}${file}`, 'utf8')))) {
      assert.doesNotThrow(() => parse(command), `${file}: pooled embed ${command}`);
      count++;
    }
  }
  assert.ok(count >= 6, `${count} commands found`);
});

test('the Kubernetes Indexed Job runs one shard per completion index, each with its own zero-padded part file', async () => {
  const manifest = await readFile(`${REPO_ROOT}docs/k8s-indexed-job.yaml`, 'utf8');
  const completions = Number(/^\s+completions: (\d+)$/m.exec(manifest)?.[1]);
  assert.equal(Number(/^\s+parallelism: (\d+)$/m.exec(manifest)?.[1]), completions);
  assert.match(manifest, /completionMode: Indexed/);
  const [command] = embedCommands(manifest);
  const { job } = parse(command);
  assert.deepEqual(job.shard, { index: 3, count: completions });
  assert.equal(job.output, '/data/out/part-00003.jsonl');
  assert.equal(job.onError, 'skip');
});
