"""`embeddings.compute`: NATS request/reply that turns texts (search queries) or learnings into vectors.

Core NATS request/reply, not JetStream: a request is cheap to repeat and its answer is only useful to
the caller that is waiting for it, so nothing needs to be stored. The callers (the learner's indexer,
consuming `learning.stored` from JetStream; the gateway's search) retry on their side, so an embedder
outage delays indexing and fails a search with 503, and never touches capture. Replicas share the
queue group, so more embedder processes are more throughput.

Request:  {"texts": ["..."]}  or  {"learnings": [{"context": "...", "correction": "..."}]}
Reply:    {"model": "...", "version": "...", "dimensions": 384, "vectors": [[...], ...]}
          or {"error": {"code": "EMBEDDING_BAD_REQUEST", "message": "..."}} (never retried).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from ..subjects import EMBEDDINGS_COMPUTE
from .model import Embedder, learning_text

log = logging.getLogger("trainer_worker.embedding")

SUBJECT = EMBEDDINGS_COMPUTE
QUEUE = "embedder"
MAX_ITEMS = 256
MAX_TEXT_CHARS = 64 * 1024


class BadRequest(ValueError):
    pass


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


class EmbeddingService:
    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.requests = 0
        self.items = 0

    async def answer(self, body: bytes) -> dict[str, Any]:
        try:
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
        }

    async def subscribe(self, nc: Any) -> Any:
        async def on_request(msg: Any) -> None:
            try:
                reply = await self.answer(msg.data)
            except Exception as err:  # a broken model must answer, not leave the caller to time out
                log.exception("embedding failed")
                reply = {"error": {"code": "EMBEDDING_FAILED", "message": str(err)[:1000]}}
            await msg.respond(json.dumps(reply, separators=(",", ":")).encode())

        return await nc.subscribe(SUBJECT, queue=QUEUE, cb=on_request)
