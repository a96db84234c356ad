"""The embedder's answers against libs/contracts/schemas/requests (ADR 0026): the TypeScript callers
are typed from those schemas, so what the Python side really sends must satisfy them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
from jsonschema import Draft7Validator

from trainer_worker.contracts import schema_dir
from trainer_worker.embedding.model import Embedder
from trainer_worker.embedding.service import EmbeddingService, parse_cluster_request, slicing_reply
from trainer_worker.embedding.slices import encode_vector


def _validator(name: str) -> Draft7Validator:
    schema = json.loads((schema_dir() / "requests" / f"{name}.v1.schema.json").read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def _errors(validator: Draft7Validator, value: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)]


def test_compute_answers_and_refusals_match_the_reply_schema() -> None:
    service = EmbeddingService(Embedder())
    request, reply = _validator("embeddings.compute.request"), _validator("embeddings.compute.reply")
    for body in ({"texts": ["SELECT 1"]}, {"learnings": [{"context": "def f():", "correction": "return 1"}]}):
        assert _errors(request, body) == []
        answer = asyncio.run(service.answer(json.dumps(body).encode()))
        assert "vectors" in answer and _errors(reply, answer) == []
    refused = asyncio.run(service.answer(b'{"texts": []}'))
    assert refused["error"]["code"] == "EMBEDDING_BAD_REQUEST"
    assert _errors(reply, refused) == []
    # the schema refuses what the embedder refuses
    assert _errors(request, {"texts": []}) != []


def test_a_slicing_answer_matches_the_reply_schema() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype=np.float32)[:2] * 5
    items = [
        {
            "id": f"l{i}",
            "vector": encode_vector(centres[i % 2] + rng.normal(0, 0.1, 8).astype(np.float32)),
            "text": "sql cursor" if i % 2 else "regex match",
        }
        for i in range(60)
    ]
    body = {"items": items, "population": 60, "min_size": 5, "seed": 0}
    assert _errors(_validator("embeddings.cluster.request"), body) == []
    parsed, policy, population = parse_cluster_request(json.dumps(body).encode())
    answer = slicing_reply(parsed, policy, population)
    assert "slices" in answer, answer
    assert _errors(_validator("embeddings.cluster.reply"), answer) == []
