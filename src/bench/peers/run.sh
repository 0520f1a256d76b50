#!/usr/bin/env bash
# npm run bench:peers -- [flags]: installs the peer engines into this folder (its own package.json and lockfile, so
# the product's `npm ci` never sees onnxruntime-node), then runs the benchmark from the repository root.
# onnxruntime-node's install script downloads GPU files; its CPU binaries ship in the package, so the download is
# skipped here (it would fail without internet and then npm silently drops the package).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
if [ ! -d "$here/node_modules/onnxruntime-node" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$root"
# Type-checked here, not by the product's tsc (which never sees onnxruntime-node).
node node_modules/typescript/bin/tsc -p "$here/tsconfig.json"
exec node --import tsx "$here/peers.ts" "$@"
