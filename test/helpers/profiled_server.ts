// `pooled profile` against our own server in-process: a fixture model on the reference backend listening on 127.0.0.1,
// and a `profile(args)` that runs the profiler at it with the model's own tokenizer, artifacts in a scratch folder.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Embedder } from '../../src/engine/embedder.js';
import { parseProfileArgs } from '../../src/profile/options.js';
import { runProfile } from '../../src/profile/run_profile.js';
import { buildServer } from '../../src/server/app.js';
import { type FixtureName, fixtureModel, type FixtureOptions } from '../fixtures/generate.js';

export interface ProfiledServer {
  /** Scratch folder of the run's artifacts (removed by close()). */
  readonly scratch: string;
  /** Runs the profiler at the server; returns the first load point's summary, its artifact folder and console output. */
  profile(args: string[]): Promise<{ summary: Awaited<ReturnType<typeof runProfile>>['points'][number]['summary']; dir: string; output: string }>;
  close(): Promise<void>;
}

export async function startProfiledServer(fixture: FixtureName, options: FixtureOptions, servedModelName: string): Promise<ProfiledServer> {
  const scratch = mkdtempSync(join(tmpdir(), `profile-${fixture}-`));
  const modelPath = await fixtureModel(fixture, options);
  const embedder = await Embedder.load(modelPath, { backend: 'reference', servedModelName, maxModelLen: 128 });
  const app = buildServer(embedder);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    scratch,
    async profile(args) {
      const dir = join(scratch, args.join('_').replace(/[^A-Za-z0-9]+/g, '_'));
      const parsed = parseProfileArgs([
        '--model',
        servedModelName,
        '--url',
        url,
        '--tokenizer',
        modelPath,
        '--artifact-dir',
        dir,
        '--ui-type',
        'none',
        ...args,
      ])!;
      const output: string[] = [];
      const result = await runProfile(parsed, { out: { write: (text) => output.push(text) }, err: { write: () => {} } });
      return { summary: result.points[0]!.summary, dir, output: output.join('') };
    },
    async close() {
      await app.close();
      await embedder.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
