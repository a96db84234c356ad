"""The TypeScript pipeline from learnings to a training snapshot and an eval suite, in Python, for
tests that must see exactly what the running system would train and evaluate on:

- content hash: apps/learner/src/app/clean-learning/content-hash.ts (learningContentHash);
- held-out split and training records: apps/trainer-bridge/src/app/build-snapshot/snapshot.ts
  (isHeldOut, record, buildSnapshot's order: by content hash);
- in-domain suite items: apps/evaluator/src/app/start-evaluation/suite.ts (buildSuite);
and the training of such a split with the worker's default settings (train_learnings).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
E2E_FIXTURES = REPO / "apps" / "e2e" / "fixtures"
sys.path.insert(0, str(REPO / "apps" / "trainer-worker" / "scripts"))

import make_learning_fixtures as generator  # noqa: E402  (scripts/ is not a package)

from trainer_worker.normalise import correction_key, decontamination_key, normalise_text  # noqa: E402

GENERATED = {"rule-family": generator.rule_family, "no-signal": generator.no_signal}

HELD_OUT_FRACTION = 0.2
# The e2e runs the bridge with GENESIS_DECONTAMINATION_LEVEL=layout: its rule family's lesson is
# "the same line with another name", which the default level counts as a copy (ADR 0016).
DECONTAMINATION_LEVEL = "layout"


normalise_for_hash = normalise_text  # the shared normalisation (libs/contracts/src/normalise.ts)


def content_hash(learning: dict[str, Any], model_id: str = "genesis") -> str:
    payload = [
        "genesis.learning-content.v1",
        model_id,
        learning["kind"],
        learning.get("language", "").lower(),
        normalise_for_hash(learning.get("context", "")),
        normalise_for_hash(learning.get("model_output", "")),
        normalise_for_hash(learning["correction"]),
    ]
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))  # = JSON.stringify
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_held_out(hash_hex: str, fraction: float) -> bool:
    digest = hashlib.sha256(f"genesis-heldout:{hash_hex}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x100000000 < fraction


def training_record(learning_id: str, learning: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"learning_id": learning_id, "kind": learning["kind"]}
    if learning.get("language"):
        record["language"] = learning["language"]
    if learning.get("context"):
        record["context"] = learning["context"]
    else:
        record["instruction"] = f"Write the {learning.get('language') or 'code'} for this {learning['kind']}."
    if learning.get("model_output"):
        record["model_output"] = learning["model_output"]
    record["correction"] = learning["correction"]
    return record


def split(
    learnings: list[dict[str, Any]], fraction: float = HELD_OUT_FRACTION
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training records, in-domain eval items) as the bridge and the evaluator would build them:
    held out by the decontamination key (a learning and its variants on the same side), and nothing
    trained on that teaches a held-out answer."""
    ranked = sorted((content_hash(learning), n, learning) for n, learning in enumerate(learnings))
    level = DECONTAMINATION_LEVEL
    held = [is_held_out(decontamination_key(learning, level), fraction) for _, _, learning in ranked]
    answers = {correction_key(learning, level) for (_, _, learning), h in zip(ranked, held, strict=True) if h}
    train, held_out = [], []
    for (_, n, learning), h in zip(ranked, held, strict=True):
        record = training_record(f"learning-{n + 1:04d}", learning)
        if h:
            held_out.append({"item_id": record["learning_id"], "split": "in_domain", **record})
        elif correction_key(learning, level) not in answers:
            train.append(record)
    return train, held_out


def load(name: str) -> list[dict[str, Any]]:
    """A committed fixture: apps/e2e/fixtures/<name>.jsonl."""
    lines = (E2E_FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def mcnemar_one_sided(candidate: list[bool], base: list[bool]) -> tuple[int, int, float]:
    """(b, c, p): b items only the candidate got right, c only the base; p = P(X >= b), X ~ Bin(b+c, 1/2)."""
    b = sum(1 for x, y in zip(candidate, base, strict=True) if x and not y)
    c = sum(1 for x, y in zip(candidate, base, strict=True) if y and not x)
    n = b + c
    p = sum(math.comb(n, k) for k in range(b, n + 1)) / 2**n if n else 1.0
    return b, c, p


@dataclass(frozen=True)
class TrainedFamily:
    train: list[dict[str, Any]]  # training records (the bridge's snapshot)
    held_out: list[dict[str, Any]]  # in-domain eval items (the evaluator's suite)
    result: Any  # TrainResult: adapter_dir, sha256, metrics
    seconds: float


def train_learnings(learnings: list[dict[str, Any]], out: Path) -> TrainedFamily:
    """Learnings split like the bridge does, trained with the worker's default settings."""
    from trainer_worker.config import load_config
    from trainer_worker.train import train_adapter  # torch: only for the tests that train

    train, held_out = split(learnings)
    cfg = dataclasses.replace(load_config({}).train, checkpoint_every=0)
    started = time.monotonic()
    result = train_adapter(train, cfg, out)
    return TrainedFamily(train, held_out, result, time.monotonic() - started)
