"""Writes libs/contracts/suites/humaneval-1.0.3.keys.json: the decontamination keys of the anchor suite.

The trainer-bridge (TypeScript) keeps anything that normalises to an anchor item, or teaches its
answer, out of training; it cannot read the Python package, so it reads these keys (sha256 of the
shared canonical form, libs/contracts/src/normalise.ts). tests/test_anchor.py checks that the
committed file is what this script writes from the pinned package.

Usage: apps/trainer-worker/.venv/bin/python apps/trainer-worker/scripts/make_anchor_keys.py
"""

from __future__ import annotations

import json
from pathlib import Path

from trainer_worker.anchor import HUMANEVAL_DATA_SHA256, anchor_items
from trainer_worker.normalise import LEVELS, correction_key, decontamination_key

OUT = Path(__file__).resolve().parents[3] / "libs" / "contracts" / "suites" / "humaneval-1.0.3.keys.json"


def render() -> str:
    items = anchor_items({"suite": "humaneval", "version": "1.0.3"})
    body = {
        "suite": "humaneval",
        "version": "1.0.3",
        "data_sha256": HUMANEVAL_DATA_SHA256,
        "items": len(items),
        "levels": {
            level: {
                "item_keys": [decontamination_key(i, level) for i in items],
                "correction_keys": [correction_key(i, level) for i in items],
            }
            for level in LEVELS
        },
    }
    return json.dumps(body, indent=2) + "\n"  # the layout prettier keeps


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
