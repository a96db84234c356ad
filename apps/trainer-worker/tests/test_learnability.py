"""The end-to-end test's learnings (apps/e2e/fixtures) against the real training and evaluation code.

rule-family.jsonl must be learnable: trained with the worker's defaults on the bridge's split, the
candidate gets the held-out learnings right where the base model does not, and the exact one-sided
McNemar test on the discordant items says so (p < 0.05). no-signal.jsonl must not look like an
improvement. These are the numbers the promotion gate sees in the e2e run.
"""

from __future__ import annotations

import json

import pytest

from learnings import (
    E2E_FIXTURES,
    GENERATED,
    TrainedFamily,
    content_hash,
    generator,
    load,
    mcnemar_one_sided,
    train_learnings,
)
from trainer_worker.config import EvalConfig, TrainConfig
from trainer_worker.contracts import schema_dir
from trainer_worker.evaluate import evaluate_items, load_model
from trainer_worker.train import resolve_runtime


def evaluate(adapter_dir, items) -> list[dict]:
    model, tokenizer = load_model("tiny", adapter_dir, resolve_runtime(TrainConfig(device="cpu")))
    return evaluate_items(model, tokenizer, items, EvalConfig())


@pytest.mark.parametrize(("name", "size"), [("rule-family", 240), ("no-signal", 120)])
def test_the_fixtures_are_what_the_generator_writes_and_valid_distinct_learnings(
    name: str, size: int
) -> None:
    from jsonschema import Draft7Validator

    path = E2E_FIXTURES / f"{name}.jsonl"
    assert path.read_text(encoding="utf-8") == generator.render(GENERATED[name]()), (
        "stale fixture: run apps/trainer-worker/scripts/make_learning_fixtures.py"
    )
    learnings = load(name)
    schema = json.loads((schema_dir() / "api" / "learning-input.schema.json").read_text())
    for learning in learnings:
        Draft7Validator(schema).validate(learning)
    assert len(learnings) == size
    assert len({content_hash(learning) for learning in learnings}) == size  # no duplicate for the learner


def assert_learned(name: str, family: TrainedFamily) -> None:
    """The candidate gets much more of the held-out learnings right than the base model, and the
    exact one-sided McNemar test on the discordant items says the gain is real."""
    items = family.held_out
    base = evaluate(None, items)
    candidate = evaluate(family.result.adapter_dir, items)
    b, c, p = mcnemar_one_sided([r["correct"] for r in candidate], [r["correct"] for r in base])
    base_accuracy = sum(r["correct"] for r in base) / len(items)
    accuracy = sum(r["correct"] for r in candidate) / len(items)
    print(
        f"\n{name}: {len(family.train)} trained, {len(items)} held out; "
        f"accuracy base {base_accuracy:.3f} → candidate {accuracy:.3f}; b={b} c={c} p={p:.2e}; "
        f"training {family.seconds:.1f} s, final loss {family.result.metrics['final_loss']:.4f}"
    )
    assert accuracy >= base_accuracy + 0.4
    assert p < 0.05


def test_the_rule_family_is_learned_and_carries_over_to_held_out_learnings(rule_family) -> None:
    assert len(rule_family.held_out) >= 30
    assert_learned("rule-family", rule_family)


def test_the_first_e2e_cycle_learns_from_the_is_none_half_alone(tmp_path) -> None:
    """apps/e2e/test/improvement-loop.test.ts opens its first cycle with the first 100 `== None`
    learnings only: about 80 to train on. Fewer examples invite memorising them instead of learning
    to read the name from the prompt (what the tiny model's q/k scale is for: base_model.py)."""
    half = [learning for learning in load("rule-family") if "!=" not in learning["context"]][:100]
    assert len(half) == 100
    assert_learned("rule-family, == None half", train_learnings(half, tmp_path))


def test_no_signal_gives_no_gain_on_its_held_out_learnings(no_signal) -> None:
    items = no_signal.held_out
    base = evaluate(None, items)
    candidate = evaluate(no_signal.result.adapter_dir, items)
    b, c, p = mcnemar_one_sided([r["correct"] for r in candidate], [r["correct"] for r in base])
    accuracy = sum(r["correct"] for r in candidate) / len(items)
    print(f"\nno-signal: {len(items)} held out; candidate accuracy {accuracy:.3f}; b={b} c={c} p={p:.2f}")
    assert no_signal.result.metrics["final_loss"] < no_signal.result.metrics["first_loss"]  # it did train
    assert p >= 0.05 and accuracy <= 0.05
