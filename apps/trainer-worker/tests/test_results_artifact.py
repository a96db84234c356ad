"""The per-item results artifact keeps a model's output exactly, whatever it holds (ADR 0014)."""

from __future__ import annotations

import json

from trainer_worker.contracts import load_artifact_schema
from trainer_worker.evaluation_job import results_jsonl


def result(item_id: str, output: str) -> dict[str, object]:
    return {
        "item_id": item_id,
        "split": "in_domain",
        "exact": False,
        "functional": None,
        "correct": False,
        "nll": 1.5,
        "tokens": 3,
        "bleu": 0.0,
        "output": output,
    }


def test_nul_lone_surrogates_and_non_ascii_survive_the_artifact() -> None:
    outputs = ["größer → ✓ 😀", "a\x00b", "x\ud800y", "\udfff\x00"]
    results = [result(f"i{n}", o) for n, o in enumerate(outputs)]
    schema = load_artifact_schema("eval-result.v1.schema.json")
    for r in results:
        schema.validate(r)
    payload = results_jsonl(results)
    text = payload.decode("utf-8")  # strict: the artifact is valid UTF-8 however odd the output
    lines = text.splitlines()
    assert [json.loads(line)["output"] for line in lines] == outputs
    # Ordinary text is written as UTF-8, not escaped; only a line UTF-8 cannot hold is escaped.
    assert "größer → ✓ 😀" in lines[0]
    assert "\\ud800" in lines[2]
