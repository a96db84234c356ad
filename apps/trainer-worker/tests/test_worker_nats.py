"""The job protocol against a real nats-server: one result per job, whatever is redelivered or killed."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import nats
import pytest

from bus import (
    events,
    get_object,
    make_job,
    publish,
    put_object,
    queue_drained,
    run_until,
    wait_for,
    worker_config,
)
from samples import learnable_records, sha256, snapshot_bytes
from topology import ARTIFACTS_BUCKET, CONSUMER
from trainer_worker.config import load_config
from trainer_worker.contracts import load_contracts
from trainer_worker.train import train_adapter
from trainer_worker.worker import Worker

pytestmark = pytest.mark.nats


def make_train_job(dataset: dict[str, Any], **data: Any) -> dict[str, Any]:
    return make_job("jobs.train", {"base_model": "tiny", "dataset": dataset, **data})


async def put_snapshot(js: Any, raw: bytes) -> dict[str, Any]:
    return await put_object(js, f"snapshots/test/{sha256(raw)}.jsonl", raw)


async def adapter_sha(js: Any, artifact: dict[str, Any]) -> str:
    return hashlib.sha256(await get_object(js, artifact["bucket"], artifact["key"])).hexdigest()


def test_a_job_trains_reports_progress_and_completes_once(nats_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        dataset = await put_snapshot(js, snapshot_bytes(learnable_records()))
        job = make_train_job(dataset, hyperparameters={"max_steps": 30}, seed=11)
        job_id = job["data"]["job_id"]
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        completed = await run_until(worker, wait_for(js, "training.completed", job_id, 120))

        load_contracts().validate(completed)
        data = completed["data"]
        assert completed["causation_id"] == job["id"] and completed["correlation_id"] == job["correlation_id"]
        assert completed["cycle_id"] == job["cycle_id"] and completed["source"] == "trainer-worker"
        assert data["artifact"]["sha256"] == await adapter_sha(js, data["artifact"])
        adapter_config = json.loads(await get_object(js, ARTIFACTS_BUCKET, data["artifact"]["config_key"]))
        assert adapter_config["r"] == 16 and adapter_config["peft_type"] == "LORA"
        assert data["seed"] == 11 and data["hyperparameters"]["max_steps"] == 30
        assert data["metrics"]["final_loss"] < data["metrics"]["first_loss"]
        assert {"torch", "transformers", "peft", "python"} <= set(data["package_versions"])
        assert data["dataset_sha256"] == dataset["sha256"]

        progress = await events(js, "training.progress", job_id)
        assert progress and progress[-1]["data"]["step"] == 30
        steps = [p["data"]["step"] for p in progress]
        assert steps == sorted(steps)
        assert all(p["data"]["tokens_per_second"] > 0 for p in progress)

        # The same job delivered again (a new message: the bridge re-sent it): no second run, and
        # the republished result is the same event, deduplicated by Nats-Msg-Id.
        again = dict(job, id=str(uuid.uuid4()))
        await publish(js, again)
        worker = Worker(worker_config(nats_url, tmp_path))
        await run_until(worker, asyncio.wait_for(queue_drained(js, CONSUMER), 60))
        results = await events(js, "training.completed", job_id)
        assert [r["id"] for r in results] == [completed["id"]]
        assert len(await events(js, "training.progress", job_id)) == len(progress)  # it did not train
        await nc.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"context": "x", "correction": "y"}\n{oops\n', "INVALID_SNAPSHOT"),
        (b"", "EMPTY_SNAPSHOT"),
        (b'{"context": "x", "answer": "y"}\n', "INVALID_SNAPSHOT"),
    ],
    ids=["unparseable", "empty", "wrong-schema"],
)
def test_an_invalid_snapshot_fails_once_without_retry(
    nats_url: str, tmp_path: Path, raw: bytes, code: str
) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        before = await js.consumer_info("GENESIS_JOBS", CONSUMER)
        job = make_train_job(await put_snapshot(js, raw))
        job_id = job["data"]["job_id"]
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "training.failed", job_id, 60))
        load_contracts().validate(failed)
        assert failed["data"]["retryable"] is False and failed["data"]["reason"]["code"] == code
        after = await js.consumer_info("GENESIS_JOBS", CONSUMER)
        assert after.num_ack_pending == 0 and after.num_pending == 0  # acked: never redelivered
        assert after.num_redelivered == before.num_redelivered
        assert await events(js, "training.completed", job_id) == []
        await nc.close()

    asyncio.run(scenario())


def test_a_schema_invalid_job_is_terminated_with_a_non_retryable_failure(
    nats_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        job = make_train_job({"bucket": ARTIFACTS_BUCKET, "key": "k", "sha256": "0" * 64})
        job["data"]["hyperparameters"] = {"lora_r": "sixteen"}
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "training.failed", job["data"]["job_id"], 30))
        assert failed["data"]["reason"]["code"] == "INVALID_JOB" and failed["data"]["retryable"] is False
        after = await js.consumer_info("GENESIS_JOBS", CONSUMER)
        assert after.num_ack_pending == 0 and after.num_pending == 0
        await nc.close()

    asyncio.run(scenario())


def test_sigkill_mid_training_redelivers_and_completes_exactly_once(nats_url: str, tmp_path: Path) -> None:
    """A worker process killed with SIGKILL mid-training: after ack_wait the job is redelivered to a
    new worker process, which resumes from the last checkpoint; one training.completed, whose adapter
    is byte-identical to an uninterrupted run's."""
    steps, seed = 60, 5
    env = dict(
        os.environ,
        NATS_URL=nats_url,
        GENESIS_WORK_DIR=str(tmp_path / "work"),
        GENESIS_PROGRESS_INTERVAL_S="0.2",
        GENESIS_CHECKPOINT_EVERY="5",
        PYTHONUNBUFFERED="1",
    )

    def start_worker(name: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(
            [sys.executable, "-m", "trainer_worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]], int, list[dict[str, Any]]]:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        dataset = await put_snapshot(js, snapshot_bytes(learnable_records()))
        job = make_train_job(dataset, hyperparameters={"max_steps": steps}, seed=seed)
        job_id = job["data"]["job_id"]
        first = start_worker("worker-1")
        second = None
        try:
            await publish(js, job)
            progress = await wait_for(
                js, "training.progress", job_id, 120, where=lambda e: e["data"]["step"] >= 12
            )
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed_at = progress["data"]["step"]
            assert killed_at < steps, "the worker finished before it could be killed"
            second = start_worker("worker-2")
            completed = await wait_for(js, "training.completed", job_id, 150)
            await asyncio.sleep(1)  # a duplicate result, if any, would land now
            results = await events(js, "training.completed", job_id)
            assert (
                await adapter_sha(js, completed["data"]["artifact"])
                == completed["data"]["artifact"]["sha256"]
            )
            all_progress = await events(js, "training.progress", job_id)
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
        await nc.close()
        return completed, results, killed_at, all_progress

    completed, results, killed_at, progress = asyncio.run(scenario())
    assert len(results) == 1, f"{len(results)} training.completed events"
    assert {p["data"]["delivery"] for p in progress} == {1, 2}
    resumed = completed["data"]["metrics"]["resumed_from_step"]
    assert 5 <= resumed < steps and resumed % 5 == 0  # from a checkpoint, not from scratch

    cfg = dataclasses.replace(
        load_config({}).train.with_overrides({"max_steps": steps}), seed=seed, checkpoint_every=0
    )
    uninterrupted = train_adapter(learnable_records(), cfg, tmp_path / "reference")
    assert completed["data"]["artifact"]["sha256"] == uninterrupted.sha256


def test_a_worker_waits_for_provisioning_instead_of_creating_anything(nats_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        config = dataclasses.replace(worker_config(nats_url, tmp_path), evaluate_consumer="not-provisioned")
        worker = Worker(config)
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(0.5)
        assert not task.done()  # waiting, not crashed
        worker.request_stop()
        await asyncio.wait_for(task, 10)
        nc = await nats.connect(nats_url)
        names = [c.name for c in await nc.jetstream().consumers_info("GENESIS_JOBS")]
        assert "not-provisioned" not in names
        await nc.close()

    asyncio.run(scenario())


def test_sigterm_mid_training_gives_the_job_back_and_the_next_worker_resumes(
    nats_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        job = make_train_job(
            await put_snapshot(js, snapshot_bytes(learnable_records())), hyperparameters={"max_steps": 60}
        )
        job_id = job["data"]["job_id"]
        await publish(js, job)
        first = Worker(worker_config(nats_url, tmp_path))
        await run_until(
            first, wait_for(js, "training.progress", job_id, 60, where=lambda e: e["data"]["step"] >= 12)
        )
        # stopped (as by SIGTERM): checkpoint saved, job nak'ed, so it is back at once
        second = Worker(worker_config(nats_url, tmp_path))
        completed = await run_until(second, wait_for(js, "training.completed", job_id, 60))
        assert 12 <= completed["data"]["metrics"]["resumed_from_step"] < 60
        assert len(await events(js, "training.completed", job_id)) == 1
        await nc.close()

    asyncio.run(scenario())


def test_a_job_past_its_deadline_fails_without_training(nats_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        job = make_train_job(
            await put_snapshot(js, snapshot_bytes(learnable_records())), deadline="2020-01-01T00:00:00.000Z"
        )
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "training.failed", job["data"]["job_id"], 30))
        assert failed["data"]["reason"]["code"] == "DEADLINE_EXCEEDED" and not failed["data"]["retryable"]
        await nc.close()

    asyncio.run(scenario())


def test_a_missing_local_base_model_is_a_non_retryable_failure(nats_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        job = make_train_job(await put_snapshot(js, snapshot_bytes(learnable_records())))
        job["data"]["base_model"] = str(tmp_path / "no-such-model")
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "training.failed", job["data"]["job_id"], 30))
        assert failed["data"]["reason"]["code"] == "BASE_MODEL_NOT_FOUND" and not failed["data"]["retryable"]
        await nc.close()

    asyncio.run(scenario())
