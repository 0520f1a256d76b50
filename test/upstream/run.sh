#!/usr/bin/env bash
# Runs the upstream checks (pytest) in the environment test/upstream/setup.sh builds. Needs the product built
# (`npm ci`). Offline: nothing is fetched from a hub. Extra arguments go to pytest (e.g. -k minilm, -x).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${POOLED_UPSTREAM_VENV:-$here/.venv}"
bash "$here/setup.sh"
cd "$here/../.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$venv/bin/python" -m pytest "$here" -p no:cacheprovider -q "$@"
