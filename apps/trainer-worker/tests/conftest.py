"""Session fixtures: one real nats-server (JetStream) on a free port, and a shared tiny-model cache.

Everything runs in one process (imports dominate the cost), on CPU only.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests build the tiny model into their own cache (never the user's ~/.cache)."""
    path = tmp_path_factory.mktemp("model-cache")
    os.environ["GENESIS_MODEL_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nats-server")
    if binary is None:
        pytest.skip("nats-server is not installed (Debian: apt-get install nats-server)")
    store = tmp_path_factory.mktemp("jetstream")
    port = _free_port()
    log = open(store / "nats-server.log", "wb")  # noqa: SIM115 - closed at the end of the session
    proc = subprocess.Popen(
        [binary, "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"nats-server did not start; see {store / 'nats-server.log'}") from None
            time.sleep(0.05)
    url = f"nats://127.0.0.1:{port}"

    async def setup() -> None:
        import nats

        from topology import provision

        nc = await nats.connect(url)
        await provision(nc.jetstream(), ack_wait=3.0)
        await nc.close()

    asyncio.run(setup())
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def rule_family(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """apps/e2e/fixtures/rule-family.jsonl, trained once per session (learnability and NATS tests)."""
    from learnings import load, train_learnings

    return train_learnings(load("rule-family"), tmp_path_factory.mktemp("rule-family"))


@pytest.fixture(scope="session")
def no_signal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from learnings import load, train_learnings

    return train_learnings(load("no-signal"), tmp_path_factory.mktemp("no-signal"))
