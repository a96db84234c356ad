"""The generation budget of an evaluation, per split of the suite (ADR 0016).

A fixed budget does not fit every suite: 64 new tokens cut 106 of HumanEval's 164 reference
functions short, so those items could never pass, while one-line in-domain corrections need a
tenth of it. Unless a job fixes the budget (`generation.max_new_tokens`), each split gets
ceil(1.25 × its longest reference in tokens) + 16, the reference's end-of-turn included, at most
`max_new_tokens_cap`: room for a correct answer written a little longer than the reference, and no
more. Greedy decoding stops at the end of turn anyway; the budget only bounds a model that never
stops (the untrained tiny model), which is what makes an evaluation's time predictable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

HEADROOM = 1.25
SLACK = 16


def derived_budget(reference_tokens: int, cap: int) -> int:
    return max(1, min(cap, math.ceil(HEADROOM * reference_tokens) + SLACK))


def generation_budgets(
    tokenizer: Any, items: Sequence[dict[str, Any]], fixed: int | None, cap: int
) -> dict[str, int]:
    """max_new_tokens per split of `items` (the fixed budget for every split when there is one)."""
    longest: dict[str, int] = {}
    for item in items:
        tokens = len(tokenizer(item["correction"], add_special_tokens=False)["input_ids"]) + 1
        longest[item["split"]] = max(longest.get(item["split"], 0), tokens)
    if fixed is not None:
        return {split: fixed for split in longest}
    return {split: derived_budget(tokens, cap) for split, tokens in longest.items()}


def unfit_references(tokenizer: Any, items: Sequence[dict[str, Any]], budgets: dict[str, int]) -> list[str]:
    """Item ids whose reference does not fit its split's budget: they can never match exactly."""
    return [
        item["item_id"]
        for item in items
        if len(tokenizer(item["correction"], add_special_tokens=False)["input_ids"]) + 1
        > budgets[item["split"]]
    ]
