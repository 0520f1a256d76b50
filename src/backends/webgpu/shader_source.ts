// Reads the WGSL kernels from shaders/ and applies the two source-level choices that WGSL overrides cannot
// express:
//   - `// @include NAME.wgsl` lines are replaced by the fragment shaders/fragments/NAME.wgsl (code that several
//     kernels share: the GEMM tile product, row reductions, the LayerNorm row tail, activations). A fragment has
//     no entry point and opens with what it expects from the kernel (bindings, overrides, workgroup size). An
//     unknown name, a fragment included twice, or an @include inside a fragment is an error naming the file;
//   - the weight storage type: every kernel that reads weights declares `alias weight_t = f32;`, and for f16
//     storage that line becomes `alias weight_t = f16;` with `enable f16;` at the top (needs `shader-f16`).
// Everything else (tile sizes, modes, hidden sizes) is an override constant set at pipeline creation.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type WeightType = 'f32' | 'f16';

const WEIGHT_ALIAS = 'alias weight_t = f32;';
// Any line that starts `// @include`, so that a malformed one is an error rather than a silent comment.
const INCLUDE_LINE = /^[ \t]*\/\/ @include\b(.*)$/gm;
const FRAGMENT_NAME = /^[ \t]+([\w.]+\.wgsl)[ \t]*$/;
const FRAGMENT_DIR = 'fragments';

/** shaders/ next to src/ (running from source with tsx) or next to dist/ (running the compiled package). */
function findShaderDir(): string {
  const candidates = ['../../../shaders/', '../../../../shaders/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((dir) => existsSync(join(dir, 'gemm.wgsl')));
  if (found === undefined) throw new Error(`WGSL shaders not found; looked in ${candidates.join(', ')}`);
  return found;
}

let shaderDir: string | null = null;
const fileCache = new Map<string, string>();

function readShaderFile(file: string): string {
  let text = fileCache.get(file);
  if (text === undefined) {
    shaderDir ??= findShaderDir();
    text = readFileSync(join(shaderDir, file), 'utf8');
    fileCache.set(file, text);
  }
  return text;
}

/** The text of shaders/fragments/NAME, or undefined when there is no such fragment. */
function fragmentText(name: string): string | undefined {
  shaderDir ??= findShaderDir();
  const path = `${FRAGMENT_DIR}/${name}`;
  return existsSync(join(shaderDir, path)) ? readShaderFile(path) : undefined;
}

/**
 * Replaces each `// @include NAME.wgsl` line of `file`'s text by the fragment's text (from `fragment`). Throws,
 * naming the file, on a malformed line, an unknown name, a fragment included twice, or a fragment that includes.
 */
export function expandIncludes(file: string, text: string, fragment: (name: string) => string | undefined = fragmentText): string {
  const included = new Set<string>();
  return text.replace(INCLUDE_LINE, (line: string, rest: string) => {
    const name = FRAGMENT_NAME.exec(rest)?.[1];
    if (name === undefined) throw new Error(`${file}: malformed include '${line.trim()}' (expected '// @include NAME.wgsl')`);
    if (included.has(name)) throw new Error(`${file}: @include ${name} appears twice`);
    included.add(name);
    const body = fragment(name);
    if (body === undefined) throw new Error(`${file}: @include ${name}: no such fragment in shaders/${FRAGMENT_DIR}/`);
    if (new RegExp(INCLUDE_LINE.source, 'm').test(body))
      throw new Error(`shaders/${FRAGMENT_DIR}/${name} (included by ${file}): a fragment cannot @include; the kernel includes what it needs`);
    return body;
  });
}

/** The WGSL text of a kernel, includes expanded and the weight type applied. */
export function shaderSource(file: string, weightType: WeightType): string {
  let text = expandIncludes(file, readShaderFile(file));
  if (weightType === 'f16') {
    if (!text.includes(WEIGHT_ALIAS)) throw new Error(`${file} reads no weights (no '${WEIGHT_ALIAS}'), so it has no f16 variant`);
    text = `enable f16;\n${text.replace(WEIGHT_ALIAS, 'alias weight_t = f16;')}`;
  }
  return text;
}
