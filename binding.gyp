# node-gyp build of the same CPU sources as CMakeLists.txt (the primary build, via cmake-js). Keep the two in sync:
# every native/kernels/cpu/*.cpp is compiled once per ISA variant into its own namespace (a static library per
# variant: portable + baseline dispatch everywhere, AVX2+FMA and AVX-512 on x64), then linked with native/addon,
# native/engine and native/engine/graphs. See native/kernels/cpu/isa_dispatch.h.
{
  "variables": {
    "common_defines": ["POOLED_NATIVE_VERSION=\"<!(node -p \"require('./package.json').version\")\"", "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"]
  },
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fPIC"],
    "cflags_cc!": ["-fno-exceptions"],
    "include_dirs": ["native"],
    "defines": ["<@(common_defines)"],
    "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" },
    "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
  },
  "targets": [
    {
      "target_name": "pooled_kernels_scalar",
      "type": "static_library",
      "sources": ["<!@(node -p \"require('fs').readdirSync('native/kernels/cpu').filter(f=>f.endsWith('.cpp')).map(f=>'native/kernels/cpu/'+f).join(' ')\")"],
      "defines": ["POOLED_ISA_NS=scalar", "POOLED_ISA_SCALAR=1", "POOLED_ISA_BASELINE=1"]
    },
    {
      "target_name": "pooled_native",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/addon').filter(f=>f.endsWith('.cpp')).map(f=>'native/addon/'+f).join(' ')\")",
        "<!@(node -p \"(require('fs').existsSync('native/engine')?require('fs').readdirSync('native/engine'):[]).filter(f=>f.endsWith('.cpp')).map(f=>'native/engine/'+f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/engine/graphs').filter(f=>f.endsWith('.cpp')).map(f=>'native/engine/graphs/'+f).join(' ')\")"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["pooled_kernels_scalar"],
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["pooled_kernels_avx2", "pooled_kernels_avx512"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "pooled_kernels_avx2",
          "type": "static_library",
          "sources": ["<!@(node -p \"require('fs').readdirSync('native/kernels/cpu').filter(f=>f.endsWith('.cpp')).map(f=>'native/kernels/cpu/'+f).join(' ')\")"],
          "defines": ["POOLED_ISA_NS=avx2", "POOLED_ISA_AVX2=1"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c"] },
          "msvs_settings": { "VCCLCompilerTool": { "EnableEnhancedInstructionSet": "5" } }
        },
        {
          "target_name": "pooled_kernels_avx512",
          "type": "static_library",
          "sources": ["<!@(node -p \"require('fs').readdirSync('native/kernels/cpu').filter(f=>f.endsWith('.cpp')).map(f=>'native/kernels/cpu/'+f).join(' ')\")"],
          "defines": ["POOLED_ISA_NS=avx512", "POOLED_ISA_AVX512=1"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16", "-mprefer-vector-width=512"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } }
        }
      ]
    }]
  ]
}
