"""The part of libs/messaging/src/topology.ts the worker needs, declared the same way from Python.

Tests provision with this (the worker itself never creates streams or consumers).
test_contracts.py checks that topology.ts still declares the worker's consumers like this.
"""

from __future__ import annotations

from typing import Any

from nats.js import api

ARTIFACTS_BUCKET = "genesis-artifacts"
CONSUMER = "trainer-worker-jobs-train"  # durableName('trainer-worker', 'jobs.train')
EVALUATE_CONSUMER = "trainer-worker-jobs-evaluate"  # durableName('trainer-worker', 'jobs.evaluate')
ARCHITECTURE_CONSUMER = (
    "trainer-worker-jobs-architecture"  # durableName('trainer-worker', 'jobs.architecture')
)
WORKER_CONSUMERS = {
    CONSUMER: "jobs.train",
    EVALUATE_CONSUMER: "jobs.evaluate",
    ARCHITECTURE_CONSUMER: "jobs.architecture",
}

STREAMS = [
    api.StreamConfig(
        name="GENESIS_EVENTS",
        subjects=[
            "learning.stored",
            "learning.rejected",
            "feedback.>",
            "cycle.>",
            "threshold.>",
            "training.>",
            "model.>",
            "evaluation.>",
            "rollback.>",
            "study.>",
        ],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        discard=api.DiscardPolicy.OLD,
        max_age=90 * 24 * 3600,
        duplicate_window=120,
        num_replicas=1,
    ),
    api.StreamConfig(
        name="GENESIS_CAPTURES",
        subjects=["learning.captured"],
        retention=api.RetentionPolicy.WORK_QUEUE,
        storage=api.StorageType.FILE,
        discard=api.DiscardPolicy.OLD,
        max_age=7 * 24 * 3600,
        duplicate_window=120,
        num_replicas=1,
    ),
    api.StreamConfig(
        name="GENESIS_JOBS",
        subjects=["jobs.>"],
        retention=api.RetentionPolicy.WORK_QUEUE,
        storage=api.StorageType.FILE,
        duplicate_window=120,
        num_replicas=1,
    ),
]


def worker_consumer(ack_wait: float = 60.0, max_deliver: int = 5, name: str = CONSUMER) -> api.ConsumerConfig:
    """As topology.ts, for jobs.train and jobs.evaluate alike: explicit ack, ack_wait 60 s kept alive
    by in-progress acks, max_deliver 5. Tests shorten ack_wait so that a killed worker's job comes
    back within seconds."""
    return api.ConsumerConfig(
        durable_name=name,
        filter_subject=WORKER_CONSUMERS[name],
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.ALL,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        max_ack_pending=16,
    )


async def provision(js: Any, ack_wait: float = 60.0) -> None:
    for config in STREAMS:
        await js.add_stream(config)
    for name in WORKER_CONSUMERS:
        await js.add_consumer("GENESIS_JOBS", worker_consumer(ack_wait, name=name))
    await js.create_object_store(ARTIFACTS_BUCKET)
