# node-gyp build of the same CPU sources as CMakeLists.txt (the primary build, via cmake-js).
# Keep the "sources" list in sync with the globs in CMakeLists.txt.
{
  "targets": [
    {
      "target_name": "pooled_native",
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["POOLED_NATIVE_VERSION=\"0.1.0\"", "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/addon').filter(f=>f.endsWith('.cpp')).map(f=>'native/addon/'+f).join(' ')\")",
        "<!@(node -p \"(require('fs').existsSync('native/engine')?require('fs').readdirSync('native/engine'):[]).filter(f=>f.endsWith('.cpp')).map(f=>'native/engine/'+f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/kernels/cpu').filter(f=>f.endsWith('.cpp')).map(f=>'native/kernels/cpu/'+f).join(' ')\")"
      ],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
