"""Evaluation on the tiny model: suites, per-item results, the metrics' definitions, determinism."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import sacrebleu
import torch

from samples import learnable_records
from trainer_worker.base_model import load_base_model
from trainer_worker.config import EvalConfig, TrainConfig
from trainer_worker.contracts import load_artifact_schema, schema_dir
from trainer_worker.data import build_examples, pad_batch
from trainer_worker.errors import JobFailure
from trainer_worker.evaluate import (
    aggregate_metrics,
    evaluate_items,
    generate,
    normalise_code,
    parse_suite,
    reference_nll,
)
from trainer_worker.sandbox import SandboxLimits
from trainer_worker.train import train_adapter

REGRESSION_SUITE = schema_dir().parent / "suites" / "regression.v1.jsonl"
CFG = EvalConfig(sandbox=SandboxLimits(cpu_seconds=2, memory_mb=256, wall_seconds=5))


def suite_items() -> list[dict]:
    """The learnable records as in-domain items, plus two regression items with tests."""
    items = [
        {
            "item_id": f"in-domain-{i}",
            "split": "in_domain",
            **{k: r[k] for k in ("instruction", "context", "correction")},
        }
        for i, r in enumerate(learnable_records())
    ]
    return items + parse_suite(REGRESSION_SUITE.read_bytes())[:2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A model that has learned the in-domain items (the worker's training, ~1-2 s)."""
    cfg = TrainConfig(max_steps=40, learning_rate=1e-2, batch_size=8, seed=7, checkpoint_every=0)
    result = train_adapter(learnable_records(), cfg, tmp_path_factory.mktemp("adapter"), return_model=True)
    result.model.eval()
    return result.model, result.tokenizer


def test_the_regression_suite_is_valid_and_every_reference_passes_its_tests() -> None:
    """20 fixed items; each reference passes its tests and the buggy code fails them, so the tests
    really assert behaviour."""
    raw = REGRESSION_SUITE.read_bytes()
    items = parse_suite(raw, hashlib.sha256(raw).hexdigest(), 20)
    assert [i["item_id"] for i in items] == [f"regression-{n:03d}" for n in range(1, 21)]
    assert {i["split"] for i in items} == {"regression"} and all(i.get("tests") for i in items)
    from trainer_worker.sandbox import run_tests

    for item in items:
        good = run_tests(item["correction"], item["tests"], CFG.sandbox)
        assert good.passed, (item["item_id"], good.stderr_tail)
        bad = run_tests(item["context"], item["tests"], CFG.sandbox)
        assert bad.outcome == "failed", item["item_id"]


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b"", "INVALID_SUITE", "no items"),
        (
            b'{"item_id": "a", "split": "in_domain", "context": "x", "correction": "y"}\n{oops\n',
            "INVALID_SUITE",
            "line 2",
        ),
        (
            b'{"item_id": "a", "split": "held_out", "context": "x", "correction": "y"}\n',
            "INVALID_SUITE",
            "line 1",
        ),
        (b'{"item_id": "a", "split": "in_domain", "correction": "y"}\n', "INVALID_SUITE", "line 1"),
        (
            b'{"item_id": "a", "split": "in_domain", "context": "x", "correction": "y"}\n' * 2,
            "INVALID_SUITE",
            "repeats",
        ),
        (b"\xff", "INVALID_SUITE", "UTF-8"),
    ],
    ids=["empty", "bad-json", "bad-split", "no-prompt", "duplicate-id", "not-utf8"],
)
def test_invalid_suites_are_non_retryable_and_say_where(raw: bytes, code: str, message: str) -> None:
    with pytest.raises(JobFailure) as err:
        parse_suite(raw)
    assert err.value.code == code and not err.value.retryable and message in err.value.message


def test_the_suite_hash_and_item_count_are_checked() -> None:
    raw = REGRESSION_SUITE.read_bytes()
    with pytest.raises(JobFailure) as err:
        parse_suite(raw, "0" * 64)
    assert err.value.code == "SUITE_HASH_MISMATCH" and not err.value.retryable
    with pytest.raises(JobFailure) as err:
        parse_suite(raw, hashlib.sha256(raw).hexdigest(), 21)
    assert err.value.code == "INVALID_SUITE" and "20 items" in err.value.message


def test_normalisation_ignores_line_endings_and_trailing_whitespace_only() -> None:
    assert normalise_code("  \r\nif x is None:  \r\n    pass\t\r\n\n") == "if x is None:\n    pass"
    assert normalise_code("if x:\n  pass") != normalise_code("if x:\n    pass")  # indentation counts


def test_results_are_valid_deterministic_and_right_for_a_trained_model(trained) -> None:
    model, tokenizer = trained
    items = suite_items()
    results = evaluate_items(model, tokenizer, items, CFG)
    schema = load_artifact_schema("eval-result.v1.schema.json")
    for result in results:
        schema.validate(result)
    assert [r["item_id"] for r in results] == [i["item_id"] for i in items]
    in_domain = [(i, r) for i, r in zip(items, results, strict=True) if r["split"] == "in_domain"]
    assert sum(r["exact"] for _, r in in_domain) >= len(in_domain) - 2  # it learned (almost) all of them
    for item, r in in_domain:
        assert r["exact"] == (normalise_code(r["output"]) == normalise_code(item["correction"]))
        assert r["correct"] == r["exact"] and r["functional"] is None and "sandbox" not in r
        assert r["bleu"] == 100 if r["exact"] else r["bleu"] < 100
        assert r["nll"] / r["tokens"] < 1.0  # a trained model: low loss on its references
    regression = [r for r in results if r["split"] == "regression"]
    for r in regression:  # items with tests: correct iff the tests passed in the sandbox
        assert r["functional"] is (r["sandbox"]["outcome"] == "passed") and r["correct"] is r["functional"]

    # same model, same items: the same results (sandbox timings aside); another batch size gives
    # the same outputs and the NLLs up to float rounding (padding changes the matmul shapes)
    def comparable(rs: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "sandbox"} for r in rs]

    assert comparable(evaluate_items(model, tokenizer, items, CFG)) == comparable(results)
    other = comparable(evaluate_items(model, tokenizer, items, EvalConfig(batch_size=3, sandbox=CFG.sandbox)))
    for a, b in zip(other, comparable(results), strict=True):
        assert a | {"nll": None} == b | {"nll": None} and a["nll"] == pytest.approx(b["nll"], rel=1e-5)


def test_batched_generation_matches_one_at_a_time(trained) -> None:
    model, tokenizer = trained
    items = suite_items()
    batched = generate(model, tokenizer, items, 24)
    assert batched == [generate(model, tokenizer, [item], 24)[0] for item in items]
    base, base_tokenizer = load_base_model("tiny")
    base.eval()
    assert generate(base, base_tokenizer, items, 24) == [
        generate(base, base_tokenizer, [i], 24)[0] for i in items
    ]


def test_reference_nll_is_the_training_loss(trained) -> None:
    """Summed NLL / tokens of a record is exactly the (mean) loss the training step computes."""
    model, tokenizer = trained
    records = learnable_records()[:3]
    scores = reference_nll(model, tokenizer, records)
    examples, _ = build_examples(records, tokenizer, 256)
    for (nll, tokens), example in zip(scores, examples, strict=True):
        batch = pad_batch([example], tokenizer.pad_token_id)
        with torch.no_grad():
            loss = model(**batch).loss.item()
        assert tokens == sum(1 for t in example.labels if t != -100)
        assert nll / tokens == pytest.approx(loss, rel=1e-5)
    too_long = learnable_records()[0] | {"correction": "x = 1\n" * 200}
    assert reference_nll(model, tokenizer, [too_long], max_length=64) == [(None, 0)]


def test_metrics_follow_the_contract_definitions() -> None:
    def result(item_id: str, split: str, exact: bool, functional, nll, tokens, output: str) -> dict:
        correct = exact if functional is None else functional
        return {
            "item_id": item_id,
            "split": split,
            "exact": exact,
            "functional": functional,
            "correct": correct,
            "nll": nll,
            "tokens": tokens,
            "bleu": 0.0,
            "output": output,
        }

    items = [
        {"item_id": "a", "split": "in_domain", "correction": "x is None"},
        {"item_id": "b", "split": "in_domain", "correction": "y is None"},
        {"item_id": "c", "split": "in_domain", "correction": "z = 1", "tests": "assert z == 1"},
        {"item_id": "d", "split": "regression", "correction": "w = 2", "tests": "assert w == 2"},
        {"item_id": "e", "split": "in_domain", "correction": "v = 3"},
    ]
    results = [
        result("a", "in_domain", True, None, 1.0, 4, "x is None"),
        result("b", "in_domain", False, None, 3.0, 4, "y == None"),
        result("c", "in_domain", False, True, 2.0, 2, "z = 1  # one"),
        result("d", "regression", False, False, 9.0, 3, "w = 3"),
        result("e", "in_domain", False, None, None, 0, "v = 4"),
    ]
    metrics = aggregate_metrics(items, results)
    assert metrics["accuracy"] == 0.5  # a (exact), c (tests pass) of a, b, c, e
    assert metrics["exact_match"] == 0.25
    assert metrics["functional_pass_rate"] == 0.5  # c passed, d failed
    assert metrics["success_rate"] == 0.0
    assert metrics["perplexity"] == pytest.approx(
        math.exp(6.0 / 10)
    )  # regression and no-score items left out
    outputs, references = (
        ["x is None", "y == None", "z = 1  # one", "v = 4"],
        ["x is None", "y is None", "z = 1", "v = 3"],
    )
    assert metrics["bleu"] == pytest.approx(sacrebleu.corpus_bleu(outputs, [references]).score, abs=1e-4)
    assert (
        metrics["items"],
        metrics["in_domain_items"],
        metrics["regression_items"],
        metrics["functional_items"],
    ) == (
        5,
        4,
        1,
        2,
    )
    only_regression = aggregate_metrics(items[3:4], results[3:4])
    assert only_regression["accuracy"] is None and only_regression["perplexity"] is None
    assert only_regression["bleu"] is None and only_regression["exact_match"] is None


def test_items_longer_than_the_generation_budget_are_unwinnable_and_counted(trained) -> None:
    """A reference with more tokens than the generation budget can never match exactly: flagged per item and
    counted per suite, so the gate can say a suite is unwinnable rather than the models equal."""
    model, tokenizer = trained
    item = suite_items()[0]
    long = item | {"item_id": "long", "correction": "\n".join(f"x{i} = {i}" for i in range(40))}
    tested = suite_items()[-1]  # a regression item with tests: judged by its tests, never unwinnable
    items = [item, long, tested]
    # The budget is derived per split from the references (budget.py): only its cap (or a fixed
    # budget) can leave a reference out of reach.
    results = evaluate_items(model, tokenizer, items, replace(CFG, max_new_tokens_cap=64))
    assert [r["unwinnable"] for r in results] == [False, True, False]
    assert not results[1]["correct"]
    metrics = aggregate_metrics(items, results)
    assert metrics["unwinnable_items"] == 1 and metrics["in_domain_items"] == 2


def test_a_stop_request_interrupts_between_batches(trained) -> None:
    from trainer_worker.errors import Interrupted

    model, tokenizer = trained
    with pytest.raises(Interrupted):
        evaluate_items(model, tokenizer, suite_items(), CFG, should_stop=lambda: True)


def test_the_eval_result_lines_round_trip_as_jsonl(trained, tmp_path: Path) -> None:
    model, tokenizer = trained
    results = evaluate_items(model, tokenizer, suite_items()[:2], CFG)
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in results))
    assert [json.loads(line) for line in path.read_text().splitlines()] == results
