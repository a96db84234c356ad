"""What a kind of job (jobs.train, jobs.evaluate) plugs into the worker's one-result-per-job protocol.

The worker owns the protocol (validate, result marker, heartbeats, retries, publish, ack: see
worker.py); a JobHandler owns the work: `run` turns a valid job into its completed event, or raises
JobFailure for a failed one. Handlers reach the object store and the bus only through JobContext.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Protocol

from .config import WorkerConfig
from .contracts import follow_up, result_event_id
from .errors import JobFailure


class JobContext(Protocol):
    """The worker's services that a handler may use."""

    config: WorkerConfig
    stop_work: threading.Event  # set on SIGTERM: long work checkpoints (or stops) and gives the job back

    async def bucket(self, name: str) -> Any: ...

    async def download(self, bucket: str, key: str, *, missing_code: str) -> bytes: ...

    async def publish(self, event: dict[str, Any]) -> Any: ...

    async def has_result(self, job_id: str) -> bool: ...

    def job_dir(self, job_id: str) -> Path: ...


class JobHandler(ABC):
    kind: ClassVar[str]  # the job kind of the one job lifecycle (ADR 0023), e.g. training
    subject: ClassVar[str]  # the job's subject, e.g. jobs.train
    failed_type: ClassVar[str]  # its failure event, e.g. training.failed
    crash_phase: ClassVar[str]  # the `phase` of a failure nobody anticipated

    def __init__(self, ctx: JobContext):
        self.ctx = ctx

    @property
    @abstractmethod
    def consumer(self) -> str:
        """The durable pull consumer of `subject` on the jobs stream."""

    @abstractmethod
    async def run(self, envelope: dict[str, Any], delivery: int) -> dict[str, Any]:
        """Does the job and returns its completed event (id: result_event_id of the job)."""

    def failure_fields(self, job: dict[str, Any]) -> dict[str, Any]:
        """Fields of the job repeated in its failure event (besides job_id)."""
        return {}

    def failed_event(
        self, envelope: dict[str, Any], failure: JobFailure, delivery: int, *, bare: bool = False
    ) -> dict[str, Any]:
        """The job's one failure event. bare: without failure_fields (for a schema-invalid job)."""
        job = envelope["data"]
        data = {
            "job_id": job["job_id"],
            **({} if bare else self.failure_fields(job)),
            "reason": {"code": failure.code, "message": failure.message[:4000] or failure.code},
            "retryable": failure.retryable,
            "phase": failure.phase,
            "delivery": delivery,
        }
        return follow_up(
            envelope,
            self.failed_type,
            data,
            source=self.ctx.config.source,
            event_id=result_event_id(job["job_id"]),
        )


def check_deadline(job: dict[str, Any]) -> None:
    deadline = job.get("deadline")
    if deadline and datetime.fromisoformat(deadline.replace("Z", "+00:00")) <= datetime.now(timezone.utc):
        raise JobFailure(
            "DEADLINE_EXCEEDED",
            f"the job's deadline {deadline} has passed",
            retryable=False,
            phase="validate",
        )


def check_local_base_model(base_model: str, *, phase: str) -> None:
    """A base model given as a local path must exist (a hub id is checked when it loads)."""
    if base_model.startswith(("/", "./", "../", "~")) and not Path(base_model).expanduser().exists():
        raise JobFailure(
            "BASE_MODEL_NOT_FOUND", f"no such folder: {base_model}", retryable=False, phase=phase
        )


def base_model_unavailable(base_model: str, err: OSError, *, phase: str) -> JobFailure | None:
    """A hub model that could not be loaded (network, hub outage): worth another job later."""
    if base_model != "tiny" and not Path(base_model).exists():
        return JobFailure("BASE_MODEL_UNAVAILABLE", f"{base_model}: {err}", retryable=True, phase=phase)
    return None
