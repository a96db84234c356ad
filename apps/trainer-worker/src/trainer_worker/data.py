"""Dataset snapshots → tokenized instruction examples → batches (padded or packed).

A snapshot is JSONL: one record per line (libs/contracts/schemas/artifacts/dataset-record.v1).
The prompt (instruction + context + model output) is masked out of the labels: the loss is on the
correction only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .contracts import load_artifact_schema
from .errors import JobFailure

IGNORE_INDEX = -100
SYSTEM_PROMPT = "You are a coding assistant. Apply the correction."


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on prompt tokens
    prompt_cut: int = 0  # prompt tokens dropped from the left to fit max_length (reported, not silent)

    def __len__(self) -> int:
        return len(self.input_ids)


def invalid(message: str, code: str) -> JobFailure:
    return JobFailure(code, message, retryable=False, phase="validate")


def parse_snapshot(raw: bytes, expected_sha256: str | None = None) -> list[dict[str, Any]]:
    """Validates a snapshot; anything wrong with it is a non-retryable JobFailure."""
    records = parse_jsonl(
        raw,
        "dataset-record.v1.schema.json",
        expected_sha256=expected_sha256,
        invalid_code="INVALID_SNAPSHOT",
        hash_code="SNAPSHOT_HASH_MISMATCH",
    )
    if not records:
        raise invalid("the snapshot holds no records", "EMPTY_SNAPSHOT")
    return records


def parse_jsonl(
    raw: bytes, schema_name: str, *, expected_sha256: str | None, invalid_code: str, hash_code: str
) -> list[dict[str, Any]]:
    """JSONL artifact → its objects, each valid against artifacts/<schema_name>; blank lines skipped.
    A wrong hash, bad UTF-8, bad JSON or a schema violation (named by line) is a JobFailure."""
    if expected_sha256 is not None:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected_sha256:
            raise invalid(f"sha256 is {actual}, the job says {expected_sha256}", hash_code)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise invalid(f"not UTF-8 ({err.reason} at byte {err.start})", invalid_code) from None
    schema = load_artifact_schema(schema_name)
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise invalid(f"line {number}: not valid JSON ({err.msg})", invalid_code) from None
        errors = sorted(schema.iter_errors(record), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path)
            raise invalid(f"line {number}: /{where} {errors[0].message}", invalid_code)
        records.append(record)
    return records


def prompt_text(record: dict[str, Any]) -> str:
    """ChatML prompt up to the assistant turn (the format of Qwen2.5 instruct models)."""
    parts = [record[k] for k in ("instruction", "context") if record.get(k)]
    if record.get("model_output"):
        parts.append("Model output:\n" + record["model_output"])
    user = "\n".join(parts)
    return (
        f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
        f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    )


def target_text(record: dict[str, Any]) -> str:
    return record["correction"] + "<|im_end|>"


def encode_example(record: dict[str, Any], tokenizer: Any, max_length: int) -> Example | None:
    """Prompt + target tokens, the prompt cut from the left to fit max_length; None when the target
    alone does not fit. Training and evaluation's perplexity score exactly these tokens."""
    prompt = tokenizer(prompt_text(record), add_special_tokens=False)["input_ids"]
    target = tokenizer(target_text(record), add_special_tokens=False)["input_ids"]
    room = max_length - len(target)
    if room < 1:
        return None
    cut = max(0, len(prompt) - room)
    prompt = prompt[cut:]
    return Example(prompt + target, [IGNORE_INDEX] * len(prompt) + target, cut)


def build_examples(
    records: Sequence[dict[str, Any]], tokenizer: Any, max_length: int
) -> tuple[list[Example], int]:
    """(examples, skipped). A prompt too long is cut from the left; an example whose correction
    alone does not fit is skipped. No example left at all is a non-retryable failure."""
    encoded = [encode_example(record, tokenizer, max_length) for record in records]
    examples = [e for e in encoded if e is not None]
    skipped = len(encoded) - len(examples)
    if not examples:
        raise invalid(f"no example fits max_length={max_length} ({skipped} skipped)", "NO_TRAINABLE_EXAMPLES")
    return examples, skipped


def pad_batch(examples: Sequence[Example], pad_id: int) -> dict[str, Any]:
    """Right-padded batch with an attention mask; pads are ignored by the loss."""
    import torch

    width = max(len(e) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        ids[row, : len(e)] = torch.tensor(e.input_ids)
        labels[row, : len(e)] = torch.tensor(e.labels)
        mask[row, : len(e)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def pack_examples(examples: Sequence[Example], max_length: int) -> list[list[Example]]:
    """First-fit packing, in the given order, of examples into rows of at most max_length tokens."""
    rows: list[list[Example]] = []
    room: list[int] = []
    for e in examples:
        for i, free in enumerate(room):
            if len(e) <= free:
                rows[i].append(e)
                room[i] -= len(e)
                break
        else:
            rows.append([e])
            room.append(max_length - len(e))
    return rows


def packed_batch(rows: Sequence[Sequence[Example]], pad_id: int) -> dict[str, Any]:
    """Packed rows: position_ids restart at 0 for every example and no attention mask is passed,
    so transformers builds a block-diagonal causal mask (no attention across examples). The loss
    never crosses a boundary: every example starts with masked prompt tokens."""
    import torch

    width = max(sum(len(e) for e in row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        at = 0
        for e in row:
            n = len(e)
            ids[r, at : at + n] = torch.tensor(e.input_ids)
            labels[r, at : at + n] = torch.tensor(e.labels)
            positions[r, at : at + n] = torch.arange(n)
            at += n
        positions[r, at:] = torch.arange(width - at)  # the padding is one more (ignored) sequence
    return {"input_ids": ids, "labels": labels, "position_ids": positions}
