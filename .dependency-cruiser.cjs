// The layering of src/ (docs/layering.md), checked by `npm run lint:deps` (part of `npm test`).
//
// Imports point down this list, never up or sideways:
//   bench                      developer benchmarks (npm scripts): may import anything in src/
//   cli, index                 entry points: `pooled ...` commands and the library entry
//   server, embed, profile     HTTP server, offline `pooled embed` jobs, `pooled profile` / `pooled report`
//   engine                     queue, scheduler, batch builder, KV blocks
//   backends                   native (C++ addon), webgpu, reference
//   model, tokenizer           checkpoints and architectures; tokenization
// Leaves, importable from anywhere, importing only other leaves: src/config/, src/errors.ts and type files
// (types.ts, *_types.ts).

/** A module of src/ that anything may import. */
const LEAF = '^src/(config/|errors[.]ts$)|^src/.*[/_]types[.]ts$';

/** Layers from the top; a layer may import any layer below it, none above it and none beside it. */
const TIERS = [['bench'], ['cli', 'index'], ['server', 'embed', 'profile'], ['engine'], ['backends'], ['model', 'tokenizer']];

/** Every module of one layer: a folder of src/ or (index) a single file. */
const layerPath = (names) => `^src/(${names.join('|')})(/|[.]ts$)`;

const layerRules = TIERS.flatMap((tier, i) =>
  tier.flatMap((name) => {
    const notBelow = TIERS.slice(0, i + 1)
      .flat()
      .filter((other) => other !== name);
    if (notBelow.length === 0) return [];
    return {
      name: `layer-${name}`,
      comment: `${name} may import only layers below it (${TIERS.slice(i + 1).flat().join(', ') || 'none'}) and leaves; see docs/layering.md`,
      severity: 'error',
      from: { path: layerPath([name]), pathNot: LEAF },
      to: { path: layerPath(notBelow), pathNot: LEAF },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'leaf-imports-leaves',
      comment: 'config/, errors.ts and type files are leaves: they import nothing else from src/',
      severity: 'error',
      from: { path: LEAF },
      to: { path: '^src/', pathNot: LEAF },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only imports included: move shared types into a leaf type file',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-to-test',
      comment: 'nothing in src/ imports test/ (src/bench/peers/ is a separate package, run from the repository only)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/bench/peers/' },
      to: { path: '^test/' },
    },
    {
      name: 'native-addon-only-in-backends-native',
      comment: 'only src/backends/native/ loads the .node file',
      severity: 'error',
      from: { pathNot: '^src/backends/native/' },
      to: { path: '[.]node$' },
    },
    {
      name: 'addon-loader-only-in-backends-native',
      comment:
        'the addon loader is src/backends/native/ internals; elsewhere go through the Backend. ' +
        'src/bench/kernels.ts times the raw ops and is the one exception (docs/layering.md)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/backends/native/|^src/bench/kernels[.]ts$' },
      to: { path: '^src/backends/native/addon[.]ts$' },
    },
    {
      name: 'reference-backend-is-the-oracle',
      comment:
        'src/backends/reference/ is the oracle: only its own folder and src/backends/select.ts (which builds it) import it, ' +
        'plus tests and the developer benchmarks in src/bench/ that check kernels against it. The native and WebGPU ' +
        'backends share code through neutral places (src/backends/batch_checks.ts, src/model/architectures/)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/backends/reference/|^src/backends/select[.]ts$|^src/bench/' },
      to: { path: '^src/backends/reference/' },
    },
    {
      name: 'float64-reference-math-is-the-oracle',
      comment:
        'the float64 reference forwards (src/model/architectures/<family>/reference*.ts) and their math ' +
        '(src/model/reference/) are the oracle: only the specs that carry them, each other, the reference backend and ' +
        'tests import them, plus src/bench/webgpu_kernels.ts, which checks kernels against the float64 ops. The native ' +
        'and WebGPU backends share code through neutral places (src/backends/batch_checks.ts, ' +
        'src/model/architectures/<family>/weights.ts)',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot:
          '^src/model/reference/|^src/model/architectures/spec[.]ts$|^src/model/architectures/[^/]+/(spec|reference[^/]*)[.]ts$|^src/backends/reference/|^src/bench/webgpu_kernels[.]ts$',
      },
      to: { path: '^src/model/reference/|^src/model/architectures/[^/]+/reference[^/]*[.]ts$' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'every import must resolve, or the rules above cannot see where it points (src/bench/peers/ installs its own ' +
        'packages on first use)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/bench/peers/' },
      to: { couldNotResolve: true, pathNot: '^@webgpu/types$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
