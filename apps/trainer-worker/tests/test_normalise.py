"""The Python twin of libs/contracts/src/normalise.ts gives every shared test vector's output."""

from __future__ import annotations

import json

import pytest

from trainer_worker.contracts import schema_dir
from trainer_worker.normalise import canonical_code, correction_key, decontamination_key, normalise_text

VECTORS = json.loads((schema_dir().parent / "fixtures" / "normalisation-vectors.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_normalisation_vector(vector: dict) -> None:
    assert normalise_text(vector["input"]) == vector["text"]
    assert normalise_text(vector["text"]) == vector["text"]
    assert canonical_code(vector["input"], vector["language"]) == vector["canonical"]
    assert canonical_code(vector["input"], vector["language"], "layout") == vector["layout"]


@pytest.mark.parametrize("case", VECTORS["decontamination_keys"], ids=lambda k: k["name"])
def test_decontamination_key_vector(case: dict) -> None:
    assert decontamination_key(case["item"]) == case["key"]
    assert correction_key(case["item"]) == case["correction_key"]
    assert decontamination_key(case["item"], "layout") == case["layout_key"]
    assert correction_key(case["item"], "layout") == case["layout_correction_key"]
