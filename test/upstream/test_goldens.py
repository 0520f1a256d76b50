"""test/fixtures/upstream_goldens.json is what write_goldens.py writes today (the node test trusts it)."""
from __future__ import annotations

import json

import write_goldens


def test_goldens_are_fresh():
    stale = write_goldens.stale_fields(json.loads(write_goldens.GOLDENS.read_text()), write_goldens.build())
    assert not stale, "rerun test/upstream/write_goldens.py:\n" + "\n".join(stale[:20])
