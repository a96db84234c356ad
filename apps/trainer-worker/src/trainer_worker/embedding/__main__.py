"""`python -m trainer_worker.embedding`: the embedder process (NATS request/reply, see service.py):
`embeddings.compute` (vectors, ADR 0018) and `embeddings.cluster` (topic slices, ADR 0020).

Settings: NATS_URL, NATS_USER/NATS_PASSWORD (user `embedder`), GENESIS_EMBEDDING_MODEL (default
the bundled all-MiniLM-L6-v2), GENESIS_EMBEDDING_DEVICE (cpu), GENESIS_EMBEDDING_BATCH_SIZE (32),
GENESIS_EMBEDDER_PORT (unset: no HTTP; set, e.g. in Kubernetes: /health/live, /health/ready and
/metrics on GENESIS_BIND_HOST, default 127.0.0.1; see health.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from .health import HealthEndpoint
from .model import BUNDLED, Embedder
from .service import CLUSTER_SUBJECT, SUBJECT, EmbeddingService

log = logging.getLogger("trainer_worker.embedding")


def _settings() -> dict[str, object]:
    problems = []
    batch = os.environ.get("GENESIS_EMBEDDING_BATCH_SIZE", "32")
    if not batch.isdigit() or not 1 <= int(batch) <= 1024:
        problems.append(f"GENESIS_EMBEDDING_BATCH_SIZE must be an integer in 1..1024 (got {batch!r})")
    port = os.environ.get("GENESIS_EMBEDDER_PORT")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        problems.append(f"GENESIS_EMBEDDER_PORT must be a port number in 1..65535 (got {port!r})")
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
        "port": int(port) if port and port.isdigit() else None,
        "host": os.environ.get("GENESIS_BIND_HOST", "127.0.0.1"),
    }


async def serve() -> None:
    import nats

    cfg = _settings()
    state: dict[str, object] = {"service": None, "nc": None}

    def health() -> dict[str, object]:
        nc, service = state["nc"], state["service"]
        connected = bool(nc is not None and nc.is_connected)  # type: ignore[attr-defined]
        if service is None:
            ready, reason = False, "loading the model or connecting to NATS"
        elif not connected:
            ready, reason = False, "NATS is disconnected (reconnecting)"
        else:
            ready, reason = True, "serving " + SUBJECT
        return {
            "ready": ready,
            "reason": reason,
            "metrics": {
                "genesis_embedder_requests_total": (
                    "counter",
                    "embeddings.compute requests answered with vectors",
                    service.requests if service else 0,  # type: ignore[attr-defined]
                ),
                "genesis_embedder_items_total": (
                    "counter",
                    "Texts embedded",
                    service.items if service else 0,  # type: ignore[attr-defined]
                ),
                "genesis_embedder_nats_connected": ("gauge", "1 while connected to NATS", int(connected)),
            },
        }

    server = None
    if cfg["port"] is not None:
        # Up before the model loads, so liveness holds while a large model is read from disk.
        server = await HealthEndpoint(health).start(str(cfg["host"]), int(cfg["port"]))  # type: ignore[call-overload]
    # Loading is CPU-bound and blocking: a thread keeps the health endpoint answering meanwhile.
    embedder = await asyncio.to_thread(
        Embedder,
        str(cfg["model"]),
        device=str(cfg["device"]),
        batch_size=int(cfg["batch_size"]),  # type: ignore[call-overload]
    )
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
    state["nc"] = nc
    service = EmbeddingService(embedder)
    await service.subscribe(nc)
    state["service"] = service
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
    if server is not None:
        server.close()


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
