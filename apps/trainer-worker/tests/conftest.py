"""Session fixtures: one real nats-server (JetStream) on a free port, and a shared tiny-model cache.

Everything runs in one process (imports dominate the cost), on CPU only.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


def _start_nats_server(
    store: Path, args: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A nats-server with JetStream on a free loopback port, its log in `store`/nats-server.log."""
    binary = shutil.which(os.environ.get("NATS_SERVER_BIN", "nats-server"))  # as libs/testing does
    if binary is None:
        pytest.skip("nats-server is not installed (Debian: apt-get install nats-server)")
    port = _free_port()
    with open(store / "nats-server.log", "wb") as log:  # the server keeps its own handle
        proc = subprocess.Popen(
            [binary, *args, "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else {**os.environ, **env},
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
    return proc, f"nats://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("jetstream")
    proc, url = _start_nats_server(store)

    async def setup() -> None:
        import nats

        from topology import provision

        nc = await nats.connect(url)
        await provision(nc.jetstream(), ack_wait=3.0)
        await nc.close()

    asyncio.run(setup())
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def rule_family(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """apps/e2e/fixtures/rule-family.jsonl, trained once per session (learnability and NATS tests)."""
    from learnings import load, train_learnings

    return train_learnings(load("rule-family"), tmp_path_factory.mktemp("rule-family"))


@pytest.fixture(scope="session")
def no_signal(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from learnings import load, train_learnings

    return train_learnings(load("no-signal"), tmp_path_factory.mktemp("no-signal"))


@dataclass(frozen=True)
class SecuredNats:
    """A nats-server with the real per-service users (deploy/nats/nats-server.conf + auth.conf)."""

    url: str
    passwords: dict[str, str]  # NATS_<USER>_PASSWORD -> password
    log: Path

    def password(self, user: str) -> str:
        return self.passwords[f"NATS_{user.upper().replace('-', '_')}_PASSWORD"]


NATS_CONF = HERE.parents[2] / "deploy" / "nats" / "nats-server.conf"


@pytest.fixture(scope="session")
def secured_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredNats]:
    variables = re.findall(r"password: \$(NATS_\w+_PASSWORD)", (NATS_CONF.parent / "auth.conf").read_text())
    # letters and digits, starting with a letter: nats-server parses the value as a config token
    passwords = {v: f"p{secrets.token_hex(18)}" for v in variables}
    store = tmp_path_factory.mktemp("jetstream-secured")
    # The config fixes the monitoring port (8222, as npm start uses it): a free one here.
    monitor = ("-m", str(_free_port()))
    proc, url = _start_nats_server(store, ("-c", str(NATS_CONF), *monitor), env=passwords)
    secured = SecuredNats(url, passwords, store / "nats-server.log")

    async def setup() -> None:
        import nats

        from topology import provision

        nc = await nats.connect(url, user="ops", password=secured.password("ops"))
        await provision(nc.jetstream(), ack_wait=3.0)
        await nc.close()

    asyncio.run(setup())
    yield secured
    _stop(proc)
