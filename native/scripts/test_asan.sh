#!/usr/bin/env bash
# The native kernel tests under AddressSanitizer: a debug build with -fsanitize=address in its own folder
# (build/asan/, so the release addon in build/Release is untouched), loaded into an uninstrumented node through
# POOLED_NATIVE_ADDON with the ASan runtime preloaded. Leak checking is off: node itself keeps allocations to
# exit by design. Small shapes only (the kernel tests), so it stays a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

npx cmake-js compile --out build/asan --debug --CDPOOLED_ASAN=ON --log-level warn
addon="$(pwd)/build/asan/Debug/pooled_native.node"
libasan="$(${CXX:-g++} -print-file-name=libasan.so)"
if [ ! -f "$addon" ] || [ ! -f "$libasan" ]; then
  echo "test:asan: missing $addon or $libasan" >&2
  exit 1
fi

POOLED_NATIVE_ADDON="$addon" LD_PRELOAD="$libasan" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1" \
  node --import tsx --test --test-concurrency=1 \
  test/kernels/ops_cpu.test.ts test/kernels/ops_out.test.ts test/unit/native_qwen3.test.ts \
  test/unit/native_load_errors.test.ts
