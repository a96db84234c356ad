"""workers.heartbeat: this worker's capacity and memory on core NATS, every GENESIS_WORKER_HEARTBEAT_S.

The job scheduler reads them (WorkerFleet in libs/jobs) and counts a worker silent for three
intervals as gone (ADR 0023). Core NATS, not a stream: only the latest heartbeat matters, and a
lost one is replaced a few seconds later. The message obeys
libs/contracts/schemas/messages/workers.heartbeat.v1.schema.json (checked before it is sent).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .contracts import load_message_schema, now_iso
from .subjects import WORKERS_HEARTBEAT

log = logging.getLogger("trainer_worker")


def host_memory_used_fraction() -> float:
    """Share of host RAM in use: psutil (in the lock file), else /proc/meminfo."""
    try:
        import psutil

        return min(1.0, max(0.0, psutil.virtual_memory().percent / 100.0))
    except ImportError:  # pragma: no cover - psutil is in requirements.lock
        return _meminfo_used_fraction(Path("/proc/meminfo").read_text(encoding="ascii"))


def _meminfo_used_fraction(text: str) -> float:
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            values[name] = int(parts[0])
    total = values.get("MemTotal", 0)
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return 0.0 if total <= 0 else min(1.0, max(0.0, 1.0 - available / total))


def gpu_memory_used_fraction() -> float | None:
    """GPU memory in use on the fullest device, or None without CUDA. Only asks torch once a job
    has imported it: importing torch just for a heartbeat would cost seconds and memory."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return None
        fractions = []
        for device in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(device)
            fractions.append(1.0 - free / total if total else 0.0)
        return min(1.0, max(fractions)) if fractions else None
    except Exception:  # a driver hiccup must not stop the heartbeat
        log.debug("GPU memory query failed", exc_info=True)
        return None


class Heartbeat:
    """Builds and sends this worker's heartbeats; `busy` says how many of its slots are in use."""

    def __init__(
        self,
        *,
        worker_id: str,
        kinds: Sequence[str],
        slots_total: int,
        busy: Callable[[], int],
        interval_s: float,
        host: str | None = None,
    ):
        self.worker_id = worker_id
        self.kinds = list(dict.fromkeys(kinds))
        self.slots_total = slots_total
        self.busy = busy
        self.interval_s = interval_s
        self.host = host or socket.gethostname()
        self._schema = load_message_schema("workers.heartbeat.v1.schema.json")

    def message(self) -> dict[str, Any]:
        gpu = gpu_memory_used_fraction()
        host = host_memory_used_fraction()
        message = {
            "worker_id": self.worker_id,
            "host": self.host,
            "kinds": self.kinds,
            "slots_total": self.slots_total,
            "slots_busy": min(self.busy(), self.slots_total),
            "memory_used_fraction": round(max(host, gpu or 0.0), 4),
            "gpu_memory_used_fraction": None if gpu is None else round(gpu, 4),
            "sent_at": now_iso(),
        }
        self._schema.validate(message)  # our own output obeys the shared contract, or it is a bug
        return message

    async def run(self, nc: Any, stopping: asyncio.Event) -> None:
        """Sends one now and then every interval until `stopping`; a failed send is tried next time."""
        while not stopping.is_set():
            try:
                await nc.publish(
                    WORKERS_HEARTBEAT, json.dumps(self.message(), separators=(",", ":")).encode()
                )
            except Exception:  # reconnecting: the next beat tries again
                log.warning("heartbeat not sent", exc_info=True)
            try:
                await asyncio.wait_for(stopping.wait(), self.interval_s)
            except asyncio.TimeoutError:
                continue
