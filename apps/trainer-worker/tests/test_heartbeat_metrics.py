"""workers.heartbeat and the Prometheus metrics (ADR 0023): a real worker against a real nats-server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import nats
import pytest

from bus import publish, queue_drained, run_until, worker_config
from conftest import _free_port
from trainer_worker import subjects
from trainer_worker.heartbeat import Heartbeat, _meminfo_used_fraction
from trainer_worker.worker import Worker


def test_meminfo_fallback_reads_available_over_total() -> None:
    text = "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n"
    assert _meminfo_used_fraction(text) == pytest.approx(0.75)
    assert _meminfo_used_fraction("MemTotal: 0 kB\n") == 0.0


def test_a_heartbeat_obeys_the_shared_schema_and_counts_busy_slots() -> None:
    busy = [0]
    beat = Heartbeat(
        worker_id="w-1", kinds=["training", "evaluation"], slots_total=1, busy=lambda: busy[0], interval_s=5
    )
    first = beat.message()
    assert first["slots_busy"] == 0 and first["kinds"] == ["training", "evaluation"]
    assert 0 <= first["memory_used_fraction"] <= 1
    assert (
        first["gpu_memory_used_fraction"] is None
        or first["memory_used_fraction"] >= first["gpu_memory_used_fraction"]
    )
    busy[0] = 1
    assert beat.message()["slots_busy"] == 1
    bad = Heartbeat(
        worker_id="no spaces allowed", kinds=["training"], slots_total=1, busy=lambda: 0, interval_s=5
    )
    with pytest.raises(jsonschema.ValidationError):
        bad.message()


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def _sample(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if head == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return None


@pytest.mark.nats
def test_a_running_worker_sends_heartbeats_and_serves_its_metrics(nats_url: str, tmp_path: Path) -> None:
    port = _free_port()
    worker_id = f"test-{uuid.uuid4().hex[:8]}"
    config = dataclasses.replace(
        worker_config(nats_url, tmp_path), worker_id=worker_id, heartbeat_s=0.2, metrics_port=port
    )

    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        beats: list[dict[str, Any]] = []

        async def on_beat(msg: Any) -> None:
            beat = json.loads(msg.data)
            if beat["worker_id"] == worker_id:
                beats.append(beat)

        await nc.subscribe(subjects.WORKERS_HEARTBEAT, cb=on_beat)
        worker = Worker(config)
        worker.metrics.serve(config.metrics_host, config.metrics_port)

        async def observed() -> str:
            # A job that can never run (no dataset) is answered and counted, quickly.
            broken = {"id": str(uuid.uuid4()), "type": "jobs.train", "version": 1, "data": {"job_id": "x"}}
            await publish(js, broken)
            await queue_drained(js, config.train_consumer)
            for _ in range(100):
                if len(beats) >= 3:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # one more observation of the (now empty) consumers
            return _scrape(port)

        try:
            text = await run_until(worker, observed())
        finally:
            worker.metrics.close()
        await nc.close()

        assert len(beats) >= 3, "one heartbeat every 0.2 s"
        assert beats[0]["kinds"] == ["training", "evaluation", "architecture"]
        assert beats[0]["slots_total"] == 1 and beats[-1]["slots_busy"] == 0
        assert _sample(text, "genesis_worker_jobs_total", kind="training", outcome="invalid") == 1.0
        assert _sample(text, "genesis_worker_jobs_total", kind="evaluation", outcome="completed") == 0.0
        assert (
            _sample(text, "genesis_worker_job_duration_seconds_count", kind="training", outcome="invalid")
            == 1.0
        )
        assert _sample(text, "genesis_consumer_pending_messages", consumer=config.train_consumer) == 0.0
        assert _sample(text, "genesis_consumer_pending_messages", consumer=config.evaluate_consumer) == 0.0
        assert _sample(text, "genesis_worker_slots") == 1.0
        assert _sample(text, "genesis_worker_slots_busy") == 0.0
        memory = _sample(text, "genesis_worker_memory_used_fraction")
        assert memory is not None and 0 < memory <= 1

    asyncio.run(scenario())


def test_gpu_memory_is_the_fullest_device_and_absent_until_torch_is_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No GPU here: torch.cuda's two calls are stood in for, to check which device and which share
    the heartbeat reports (the GPU test machine runs the real ones)."""
    import sys
    import types

    from trainer_worker.heartbeat import gpu_memory_used_fraction

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert gpu_memory_used_fraction() is None, "torch not loaded: no GPU query"
    free_total = {0: (60, 100), 1: (10, 100)}
    cuda = types.SimpleNamespace(
        is_available=lambda: True,
        device_count=lambda: 2,
        mem_get_info=lambda device: free_total[device],
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    assert gpu_memory_used_fraction() == pytest.approx(0.9)
    cuda.is_available = lambda: False
    assert gpu_memory_used_fraction() is None
