#!/usr/bin/env bash
# npm run bench:peers -- [flags]: installs the peer engines into this folder (its own package.json and lockfile, so
# the product's `npm ci` never sees onnxruntime-node; a Python venv for ORT's int8 quantizer), then runs the benchmark
# from the repository root.
# onnxruntime-node's install script downloads GPU files; its CPU binaries ship in the package, so the download is
# skipped here (it would fail without internet and then npm silently drops the package).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
if [ ! -d "$here/node_modules/onnxruntime-node" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi
# ORT's own int8 (quantize_dynamic) is Python-only: a venv here with requirements.txt. Without python3 (or offline) the
# ORT int8 rows are skipped and the run says so.
venv="$here/.venv"
int8_args=()
if [ ! -x "$venv/bin/python" ] || [ "$here/requirements.txt" -nt "$venv/.installed" ]; then
  if command -v python3 >/dev/null && python3 -m venv "$venv" && "$venv/bin/pip" install -q -r "$here/requirements.txt"; then
    touch "$venv/.installed"
  else
    echo "bench:peers: could not install $here/requirements.txt; ORT int8 rows skipped" >&2
  fi
fi
if [ -f "$venv/.installed" ]; then int8_args=(--ort-int8-python "$venv/bin/python"); fi
cd "$root"
# Type-checked here, not by the product's tsc (which never sees onnxruntime-node).
node node_modules/typescript/bin/tsc -p "$here/tsconfig.json"
exec node --import tsx "$here/peers.ts" "${int8_args[@]}" "$@"
