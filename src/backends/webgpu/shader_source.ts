// Reads the WGSL kernels from shaders/ and applies the two source-level choices that WGSL overrides cannot
// express:
//   - `// @include NAME.wgsl` lines are replaced by that library file (shared activation and reduction code);
//   - the weight storage type: every kernel that reads weights declares `alias weight_t = f32;`, and for f16
//     storage that line becomes `alias weight_t = f16;` with `enable f16;` at the top (needs `shader-f16`).
// Everything else (tile sizes, modes, hidden sizes) is an override constant set at pipeline creation.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type WeightType = 'f32' | 'f16';

const WEIGHT_ALIAS = 'alias weight_t = f32;';
const INCLUDE_LINE = /^[ \t]*\/\/ @include ([\w.]+\.wgsl)[ \t]*$/gm;

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

/** The WGSL text of a kernel, includes expanded and the weight type applied. */
export function shaderSource(file: string, weightType: WeightType): string {
  let text = readShaderFile(file).replace(INCLUDE_LINE, (_, name: string) => {
    const included = readShaderFile(name);
    if (new RegExp(INCLUDE_LINE.source, 'm').test(included)) throw new Error(`${name}: nested @include is not supported`);
    return included;
  });
  if (weightType === 'f16') {
    if (!text.includes(WEIGHT_ALIAS)) throw new Error(`${file} reads no weights (no '${WEIGHT_ALIAS}'), so it has no f16 variant`);
    text = `enable f16;\n${text.replace(WEIGHT_ALIAS, 'alias weight_t = f16;')}`;
  }
  return text;
}
