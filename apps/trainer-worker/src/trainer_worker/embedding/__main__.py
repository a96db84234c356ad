"""`python -m trainer_worker.embedding`: the embedder process (NATS request/reply, see service.py):
`embeddings.compute` (vectors, ADR 0018) and `embeddings.cluster` (topic slices, ADR 0020).

Settings: NATS_URL, NATS_USER/NATS_PASSWORD (user `embedder`), GENESIS_EMBEDDING_MODEL (default
the bundled all-MiniLM-L6-v2), GENESIS_EMBEDDING_DEVICE (cpu), GENESIS_EMBEDDING_BATCH_SIZE (32).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from .model import BUNDLED, Embedder
from .service import CLUSTER_SUBJECT, SUBJECT, EmbeddingService

log = logging.getLogger("trainer_worker.embedding")


def _settings() -> dict[str, object]:
    problems = []
    batch = os.environ.get("GENESIS_EMBEDDING_BATCH_SIZE", "32")
    if not batch.isdigit() or not 1 <= int(batch) <= 1024:
        problems.append(f"GENESIS_EMBEDDING_BATCH_SIZE must be an integer in 1..1024 (got {batch!r})")
    user, password = os.environ.get("NATS_USER"), os.environ.get("NATS_PASSWORD")
    if (user is None) != (password is None):
        problems.append("NATS_USER and NATS_PASSWORD must be set together")
    if problems:
        print(f"[embedder] invalid configuration: {'; '.join(problems)}", file=sys.stderr)
        sys.exit(2)
    return {
        "nats_url": os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
        "user": user,
        "password": password,
        "model": os.environ.get("GENESIS_EMBEDDING_MODEL", BUNDLED),
        "device": os.environ.get("GENESIS_EMBEDDING_DEVICE", "cpu"),
        "batch_size": int(batch),
    }


async def serve() -> None:
    import nats

    cfg = _settings()
    embedder = Embedder(str(cfg["model"]), device=str(cfg["device"]), batch_size=int(cfg["batch_size"]))  # type: ignore[arg-type]
    auth = {}
    if cfg["user"]:
        auth = {"user": cfg["user"], "password": cfg["password"], "inbox_prefix": f"_INBOX.{cfg['user']}"}
    nc = await nats.connect(
        servers=[str(cfg["nats_url"])],
        name="genesis-embedder",
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        **auth,
    )
    service = EmbeddingService(embedder)
    await service.subscribe(nc)
    log.info(
        "embedder ready",
        extra={
            "subjects": [SUBJECT, CLUSTER_SUBJECT],
            "model": embedder.info.name,
            "version": embedder.info.version,
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await nc.drain()  # answers what it took, then closes


def main() -> None:
    from ..__main__ import JsonFormatter

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    for noisy in ("nats", "httpx", "transformers", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
