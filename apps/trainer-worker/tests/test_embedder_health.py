"""The embedder's HTTP endpoint (embedding/health.py): what the kubelet's probes and Prometheus read.

The whole process is started as Kubernetes starts it (`python -m trainer_worker.embedding` with
GENESIS_EMBEDDER_PORT) against a real nats-server: live at once, ready only once the model is loaded
and the subscription is in place, and its metrics count a real request.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import nats

from trainer_worker.embedding.health import HealthEndpoint
from trainer_worker.embedding.service import SUBJECT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_not_ready_answers_503_with_the_reason_and_unknown_routes_404() -> None:
    endpoint = HealthEndpoint(lambda: {"ready": False, "reason": "NATS is disconnected", "metrics": {}})
    reply = endpoint.route("GET", "/health/ready").decode()
    assert reply.startswith("HTTP/1.1 503 ")
    assert json.loads(reply.split("\r\n\r\n", 1)[1]) == {
        "status": "unavailable",
        "reason": "NATS is disconnected",
    }
    assert endpoint.route("GET", "/health/live").startswith(b"HTTP/1.1 200 ")
    assert endpoint.route("GET", "/nope").startswith(b"HTTP/1.1 404 ")
    assert endpoint.route("POST", "/health/live").startswith(b"HTTP/1.1 405 ")


def test_a_bad_port_is_refused_at_boot() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trainer_worker.embedding"],
        env={**os.environ, "GENESIS_EMBEDDER_PORT": "http"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "GENESIS_EMBEDDER_PORT must be a port number" in proc.stderr


def test_the_process_is_live_then_ready_and_counts_what_it_embeds(nats_url: str) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer_worker.embedding"],
        env={**os.environ, "NATS_URL": nats_url, "GENESIS_EMBEDDER_PORT": str(port), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 180
        statuses: list[int] = []
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                status, body = _get(f"{base}/health/ready")
            except OSError:
                time.sleep(0.2)  # not listening yet
                continue
            statuses.append(status)
            if status == 200:
                assert json.loads(body) == {"status": "ok", "reason": f"serving {SUBJECT}"}
                break
            assert status == 503 and "loading" in json.loads(body)["reason"]
            assert _get(f"{base}/health/live")[0] == 200  # live while the model loads
            time.sleep(0.2)
        assert statuses and statuses[-1] == 200, f"never ready: {statuses[-5:]}"

        async def ask() -> dict:
            nc = await nats.connect(nats_url)
            msg = await nc.request(SUBJECT, json.dumps({"texts": ["a", "b", "c"]}).encode(), timeout=30)
            await nc.close()
            return json.loads(msg.data)

        assert len(asyncio.run(ask())["vectors"]) == 3
        status, metrics = _get(f"{base}/metrics")
        assert status == 200
        samples = dict(
            line.rsplit(" ", 1) for line in metrics.splitlines() if line and not line.startswith("#")
        )
        assert samples == {
            "genesis_embedder_requests_total": "1",
            "genesis_embedder_items_total": "3",
            "genesis_embedder_nats_connected": "1",
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
