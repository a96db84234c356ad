"""Evaluation of one model on a frozen suite, per item: greedy output, exact match, reference NLL,
sentence BLEU, and the item's tests run against the output in the sandbox.

Definitions (libs/contracts/schemas/artifacts/eval-result.v1 and events/evaluation.completed.v1):
- the prompt is the training prompt (data.prompt_text); the output is greedy (no sampling), up to
  the split's budget (budget.py) or the end-of-turn token;
- exact: output and reference are equal after normalisation (NFC, CRLF/CR → LF, trailing whitespace
  of every line, leading/trailing blank lines: the learner's normalisation for duplicates);
- nll / tokens: the summed negative log-likelihood (nats) of the reference's tokens given the
  prompt, teacher-forced; the tokens are those the training loss covers (correction + end of turn);
- bleu: sacrebleu sentence BLEU of the normalised output against the normalised reference;
- functional (items with tests): the tests, run against the output in the sandbox, report that they
  ran to their end (sandbox.run_tests: the code and the tests in separate processes, the verdict
  from the tests' side alone; an item's `entry_point`, where it has one, is then passed to its
  `check` function, HumanEval's form);
- correct: functional when the item has tests, else exact;
- unwinnable: no tests, and the normalised reference has more tokens than the generation budget, so no
  output can match it (the gate reports these; ADR 0015).
Aggregates: see aggregate_metrics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base_model import load_base_model
from .budget import generation_budgets
from .config import EvalConfig
from .data import encode_example, invalid, pad_batch, parse_jsonl, prompt_text
from .errors import Interrupted, JobFailure
from .normalise import normalise_text
from .sandbox import run_tests
from .train import Runtime, load_trained, set_cpu_threads

OUTPUT_LIMIT = 8192  # characters of the output kept in a result (eval-result.v1 `output`)


@dataclass(frozen=True)
class EvalProgress:
    done: int
    total: int
    elapsed_seconds: float


def parse_suite(
    raw: bytes, expected_sha256: str | None = None, expected_items: int | None = None
) -> list[dict[str, Any]]:
    """A suite's items (eval-item.v1, JSONL); anything wrong with it is a non-retryable failure."""
    items = parse_jsonl(
        raw,
        "eval-item.v1.schema.json",
        expected_sha256=expected_sha256,
        invalid_code="INVALID_SUITE",
        hash_code="SUITE_HASH_MISMATCH",
    )
    if not items:
        raise invalid("the suite holds no items", "INVALID_SUITE")
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        if item["item_id"] in seen:
            raise invalid(
                f"item {number}: item_id {item['item_id']!r} repeats item {seen[item['item_id']]}",
                "INVALID_SUITE",
            )
        seen[item["item_id"]] = number
    if expected_items is not None and len(items) != expected_items:
        raise invalid(f"the suite holds {len(items)} items, the job says {expected_items}", "INVALID_SUITE")
    return items


# The shared normalisation (libs/contracts/src/normalise.ts, test vectors in both languages).
normalise_code = normalise_text


def evaluate_items(
    model: Any,
    tokenizer: Any,
    items: Sequence[dict[str, Any]],
    cfg: EvalConfig,
    *,
    on_progress: Callable[[EvalProgress], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[dict[str, Any]]:
    """Per-item results (eval-result.v1), in suite order. The model must be in eval mode."""
    import sacrebleu
    import torch

    torch.manual_seed(cfg.seed)  # greedy decoding draws nothing; kept so any sampling would be seeded
    budgets = generation_budgets(tokenizer, items, cfg.max_new_tokens, cfg.max_new_tokens_cap)
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    for start in range(0, len(items), cfg.batch_size):
        if should_stop():
            raise Interrupted(f"stopped after {start}/{len(items)} items")
        batch = items[start : start + cfg.batch_size]
        budget = max(budgets[item["split"]] for item in batch)
        outputs = generate(model, tokenizer, batch, budget, cfg.max_length)
        scores = reference_nll(model, tokenizer, batch, cfg.max_length)
        for item, output, (nll, tokens) in zip(batch, outputs, scores, strict=True):
            hypothesis, reference = normalise_code(output), normalise_code(item["correction"])
            result: dict[str, Any] = {
                "item_id": item["item_id"],
                "split": item["split"],
                "exact": hypothesis == reference,
                "functional": None,
                "correct": False,
                "nll": None if nll is None else round(nll, 6),
                "tokens": tokens,
                "bleu": round(sacrebleu.sentence_bleu(hypothesis, [reference]).score, 4),
                "output": output[:OUTPUT_LIMIT],
                "unwinnable": not item.get("tests")
                and len(tokenizer(reference, add_special_tokens=False)["input_ids"]) > budget,
            }
            if item.get("tests"):
                run = run_tests(
                    output,
                    item["tests"],
                    cfg.sandbox,
                    cfg.sandbox_mode,
                    entry_point=item.get("entry_point"),
                    python=cfg.sandbox_python,
                )
                result["functional"] = run.passed
                result["sandbox"] = run.as_json()
            result["correct"] = result["exact"] if result["functional"] is None else result["functional"]
            results.append(result)
        if on_progress:
            on_progress(EvalProgress(len(results), len(items), time.monotonic() - started))
    return results


def aggregate_metrics(items: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The evaluation.completed `metrics` of per-item results (`items`: the suite, same order).

    accuracy / exact_match: share of in-domain items correct / exactly matched; unwinnable_items:
    in-domain items no output can match (see the module docstring); functional_pass_rate:
    share of items with tests (any split) whose tests passed; success_rate: share of regression
    items correct; perplexity: exp(sum nll / sum tokens) over in-domain items; bleu: sacrebleu
    corpus BLEU over in-domain items. A rate over no items is null.
    """
    import sacrebleu

    in_domain = [(i, r) for i, r in zip(items, results, strict=True) if r["split"] == "in_domain"]
    regression = [r for r in results if r["split"] == "regression"]
    functional = [r for r in results if r["functional"] is not None]
    nll = sum(r["nll"] for _, r in in_domain if r["nll"] is not None)
    tokens = sum(r["tokens"] for _, r in in_domain if r["nll"] is not None)
    bleu = None
    if in_domain:
        hypotheses = [normalise_code(r["output"]) for _, r in in_domain]
        references = [normalise_code(i["correction"]) for i, _ in in_domain]
        bleu = round(sacrebleu.corpus_bleu(hypotheses, [references]).score, 4)
    return {
        "accuracy": _rate([r["correct"] for _, r in in_domain]),
        "exact_match": _rate([r["exact"] for _, r in in_domain]),
        "functional_pass_rate": _rate([r["functional"] for r in functional]),
        # capped below float overflow: JSON has no infinity
        "perplexity": round(math.exp(min(nll / tokens, 700.0)), 6) if tokens else None,
        "bleu": bleu,
        "success_rate": _rate([r["correct"] for r in regression]),
        "items": len(results),
        "in_domain_items": len(in_domain),
        "regression_items": len(regression),
        "functional_items": len(functional),
        "unwinnable_items": sum(1 for _, r in in_domain if r.get("unwinnable")),
    }


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 6) if flags else None


def load_model(
    base_model: str, adapter_dir: Path | None, runtime: Runtime, *, cpu_threads: int | None = None
) -> tuple[Any, Any]:
    """(model in eval mode on the runtime's device, tokenizer): the base, or base + a saved adapter.
    An adapter that does not fit the base is a non-retryable INVALID_ADAPTER."""
    import torch

    set_cpu_threads(runtime, base_model, cpu_threads)
    dtype = torch.bfloat16 if runtime.bf16 else torch.float32
    try:
        if adapter_dir is None:
            model, tokenizer = load_base_model(base_model, dtype=dtype)
        else:
            model, tokenizer = load_trained(base_model, adapter_dir, dtype=dtype)
    except torch.OutOfMemoryError:
        raise
    except (ValueError, KeyError, RuntimeError) as err:
        if adapter_dir is None:
            raise
        raise JobFailure(
            "INVALID_ADAPTER",
            f"the adapter does not load onto {base_model}: {err}",
            retryable=False,
            phase="load",
        ) from err
    return model.to(runtime.device).eval(), tokenizer


def stop_token_ids(tokenizer: Any) -> list[int]:
    """End of turn (<|im_end|>) and the tokenizer's eos, where they exist."""
    ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
    return sorted(i for i in ids if isinstance(i, int) and i != tokenizer.unk_token_id)


def generate(
    model: Any,
    tokenizer: Any,
    records: Sequence[dict[str, Any]],
    max_new_tokens: int = 64,
    max_length: int = 256,
) -> list[str]:
    """Greedy completions of the records' training prompts, batched (left-padded), each cut at its
    first end-of-turn token."""
    import torch

    prompts = [
        tokenizer(prompt_text(r), add_special_tokens=False)["input_ids"][-max_length:] for r in records
    ]
    width = max(len(p) for p in prompts)
    pad = tokenizer.pad_token_id
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt)
        mask[row, width - len(prompt) :] = 1
    stops = stop_token_ids(tokenizer)
    with torch.no_grad():
        out = model.generate(
            input_ids=ids.to(model.device),
            attention_mask=mask.to(model.device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=stops,
            pad_token_id=pad,
        )
    texts = []
    for row in out[:, width:].tolist():
        cut = next((k for k, token in enumerate(row) if token in stops), len(row))
        texts.append(tokenizer.decode(row[:cut], skip_special_tokens=True))
    return texts


def reference_nll(
    model: Any, tokenizer: Any, records: Sequence[dict[str, Any]], max_length: int = 256
) -> list[tuple[float | None, int]]:
    """(summed NLL in nats, token count) of each record's reference given its prompt; (None, 0)
    when the reference alone does not fit max_length."""
    import torch

    encoded = [encode_example(r, tokenizer, max_length) for r in records]
    present = [e for e in encoded if e is not None]
    sums: list[tuple[float, int]] = []
    if present:
        batch = {k: v.to(model.device) for k, v in pad_batch(present, tokenizer.pad_token_id).items()}
        labels = batch.pop("labels")
        with torch.no_grad():
            logits = model(**batch, use_cache=False).logits[:, :-1].float()
        targets = labels[:, 1:]
        scored = targets != -100
        logprobs = (
            torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        )
        nll = -(logprobs * scored).sum(dim=1)
        sums = list(zip(nll.tolist(), scored.sum(dim=1).tolist(), strict=True))
    it = iter(sums)
    return [(None, 0) if e is None else next(it) for e in encoded]
