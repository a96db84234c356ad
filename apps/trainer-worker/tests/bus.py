"""Helpers for tests against the real nats-server: jobs in, events and objects out, a worker run."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import nats

from topology import ARTIFACTS_BUCKET
from trainer_worker.config import TrainConfig, WorkerConfig
from trainer_worker.contracts import load_contracts, now_iso
from trainer_worker.worker import Worker


def make_job(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """A valid job envelope, as the bridge or the evaluator would publish it."""
    correlation = str(uuid.uuid4())
    envelope = {
        "id": str(uuid.uuid4()),
        "type": type_,
        "version": 1,
        "time": now_iso(),
        "source": "test",
        "model_id": "genesis",
        "cycle_id": str(uuid.uuid4()),
        "correlation_id": correlation,
        "causation_id": correlation,
        "data": {"job_id": str(uuid.uuid4()), **data},
    }
    return load_contracts().validate(envelope)


async def put_object(js: Any, key: str, raw: bytes) -> dict[str, Any]:
    """Stores `raw` in the artifacts bucket; its reference {bucket, key, sha256}."""
    store = await js.object_store(ARTIFACTS_BUCKET)
    await store.put(key, raw)
    return {"bucket": ARTIFACTS_BUCKET, "key": key, "sha256": hashlib.sha256(raw).hexdigest()}


async def get_object(js: Any, bucket: str, key: str) -> bytes:
    return bytes((await (await js.object_store(bucket)).get(key)).data or b"")


async def publish(js: Any, envelope: dict[str, Any]) -> None:
    await js.publish(envelope["type"], json.dumps(envelope).encode(), headers={"Nats-Msg-Id": envelope["id"]})


async def events(js: Any, subject: str, job_id: str) -> list[dict[str, Any]]:
    """Every event of `subject` for this job now in GENESIS_EVENTS, in stream order."""
    info = await js.stream_info("GENESIS_EVENTS")
    found = []
    for seq in range(max(1, info.state.first_seq), info.state.last_seq + 1):
        try:
            msg = await js.get_msg("GENESIS_EVENTS", seq)
        except nats.js.errors.NotFoundError:
            continue
        if msg.subject == subject:
            event = json.loads(msg.data)
            if event["data"].get("job_id") == job_id:
                found.append(event)
    return found


async def wait_for(
    js: Any, subject: str, job_id: str, timeout: float, where=lambda e: True
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        matching = [e for e in await events(js, subject, job_id) if where(e)]
        if matching:
            return matching[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {subject} for job {job_id} within {timeout}s")


async def queue_drained(js: Any, consumer: str) -> None:
    """Returns once the consumer has nothing pending and nothing unacknowledged."""
    while True:
        info = await js.consumer_info("GENESIS_JOBS", consumer)
        if not info.num_pending and not info.num_ack_pending:
            return
        await asyncio.sleep(0.2)


def worker_config(nats_url: str, work_dir: Path, **train: Any) -> WorkerConfig:
    return WorkerConfig(
        nats_url=nats_url,
        work_dir=work_dir,
        train=TrainConfig(progress_every_s=0.1, checkpoint_every=10, **train),
    )


async def run_until(worker: Worker, done: Any) -> Any:
    """Runs `worker` until the coroutine `done` returns, then stops it (as SIGTERM does)."""
    task = asyncio.create_task(worker.run())
    try:
        return await done
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 30)
