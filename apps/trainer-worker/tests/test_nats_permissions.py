"""The worker as its own NATS user (deploy/nats/auth.conf): what its code does works, the rest is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import api

from conftest import SecuredNats
from samples import learnable_records, snapshot_bytes
from test_worker_nats import make_train_job, publish, put_snapshot, run_until, wait_for, worker_config
from trainer_worker.worker import Worker

pytestmark = pytest.mark.nats


async def connect_as(secured: SecuredNats, user: str, errors: list[str] | None = None) -> Any:
    async def on_error(err: Exception) -> None:
        if errors is not None:
            errors.append(str(err))

    return await nats.connect(
        secured.url,
        user=user,
        password=secured.password(user),
        inbox_prefix=f"_INBOX.{user}",
        error_cb=on_error,
        max_reconnect_attempts=0,
    )


def test_the_worker_trains_a_job_under_its_own_user(secured_nats: SecuredNats, tmp_path: Path) -> None:
    """Pull jobs.train, read the snapshot, write the adapter and the result marker, publish progress
    and training.completed, ack: all as `trainer-worker`, with no permission violation logged."""

    async def scenario() -> None:
        ops = await connect_as(secured_nats, "ops")
        js = ops.jetstream()
        job = make_train_job(
            await put_snapshot(js, snapshot_bytes(learnable_records())), hyperparameters={"max_steps": 5}
        )
        await publish(js, job)
        cfg = dataclasses.replace(
            worker_config(secured_nats.url, tmp_path),
            nats_user="trainer-worker",
            nats_password=secured_nats.password("trainer-worker"),
        )
        completed = await run_until(
            Worker(cfg), wait_for(js, "training.completed", job["data"]["job_id"], 120)
        )
        store = await js.object_store(completed["data"]["artifact"]["bucket"])
        assert (await store.get(completed["data"]["artifact"]["key"])).data
        info = await js.consumer_info("GENESIS_JOBS", "trainer-worker-jobs-train")
        assert info.num_ack_pending == 0 and info.num_pending == 0
        await ops.close()

    before = secured_nats.log.stat().st_size  # the server is shared: only this test's lines count
    asyncio.run(scenario())
    with secured_nats.log.open() as log:
        log.seek(before)
        violations = [line for line in log if "Violation" in line]
    assert violations == []


def test_the_worker_user_is_refused_everything_else(secured_nats: SecuredNats) -> None:
    async def scenario() -> None:
        errors: list[str] = []
        worker = await connect_as(secured_nats, "trainer-worker", errors)
        js = worker.jetstream(timeout=1)
        ops = await connect_as(secured_nats, "ops")
        ops_js = ops.jetstream()
        await ops_js.add_consumer(
            "GENESIS_CAPTURES",
            api.ConsumerConfig(
                durable_name="learner-learning-captured",
                filter_subject="learning.captured",
                ack_policy=api.AckPolicy.EXPLICIT,
            ),
        )

        for subject in ("model.deployed", "learning.stored", "threshold.reached"):
            with pytest.raises(nats.errors.TimeoutError):  # the server drops it: no stream ack
                await js.publish(subject, json.dumps({"rogue": True}).encode())
            with pytest.raises(nats.js.errors.NotFoundError):
                await ops_js.get_last_msg("GENESIS_EVENTS", subject)
        with pytest.raises(nats.errors.TimeoutError):  # another service's consumer
            await js.consumer_info("GENESIS_CAPTURES", "learner-learning-captured")
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_stream("GENESIS_JOBS")
        await worker.subscribe("_INBOX.>")  # everybody's replies
        await asyncio.sleep(0.3)
        assert (await ops_js.stream_info("GENESIS_JOBS")).config.name == "GENESIS_JOBS"

        for expected in (
            'Publish to "model.deployed"',
            'Publish to "learning.stored"',
            'Publish to "$JS.API.CONSUMER.INFO.GENESIS_CAPTURES.learner-learning-captured"',
            'Publish to "$JS.API.STREAM.DELETE.GENESIS_JOBS"',
            'Subscription to "_INBOX.>"',
        ):
            needle = f"permissions violation for {expected}".lower()  # nats-py lowercases the error
            assert any(needle in e for e in errors), f"{expected}: {errors}"
        await worker.close()
        await ops.close()

    asyncio.run(scenario())


def test_a_refused_login_keeps_retrying_until_the_worker_is_stopped(
    secured_nats: SecuredNats, tmp_path: Path
) -> None:
    """A wrong password is retried (the Secret may be fixed a moment later), and SIGTERM still ends it."""

    async def scenario() -> None:
        cfg = dataclasses.replace(
            worker_config(secured_nats.url, tmp_path), nats_user="trainer-worker", nats_password="wrong"
        )
        worker = Worker(cfg)
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(1.5)
        assert not task.done()
        worker.request_stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
