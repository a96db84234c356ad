"""A small learnable dataset: fix the operator of a one-line function."""

from __future__ import annotations

import hashlib
import json
from typing import Any

NAMES = ["add", "total", "plus", "combine", "sum_two", "accumulate", "join_numbers", "merge"]


def learnable_records() -> list[dict[str, Any]]:
    return [
        {
            "learning_id": f"l-{i}",
            "kind": "correction",
            "language": "python",
            "instruction": "Fix the bug.",
            "context": f"def {name}(a, b):\n    return a - b",
            "correction": f"def {name}(a, b):\n    return a + b",
        }
        for i, name in enumerate(NAMES)
    ]


def snapshot_bytes(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode()


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
