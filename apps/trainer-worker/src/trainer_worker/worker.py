"""The job loop: jobs.train, jobs.evaluate and jobs.architecture from the GENESIS_JOBS work queue,
one result per job.

One job at a time per worker (one GPU); more throughput is more worker pods on the same queue. The
worker pulls from both consumers in turn (after a job of one kind, the other kind is asked first),
so neither kind of job starves the other.

Exactly one result per job, whatever is redelivered or killed (the same for every kind of job):
  1. before any work, a result marker `results/<job_id>.json` in the object store is looked up; if
     there is one, its stored envelope is published again (same id → a duplicate by Nats-Msg-Id,
     and by event id for consumers outside the dedup window) and the job is acked: no second run;
  2. the result event's id is derived from the job id (uuid v5), so two racing workers publish the
     same id and JetStream keeps one;
  3. order: artifacts (adapter, per-item results) → marker → publish → ack. A crash between any two
     steps is repaired by (1) on redelivery. A crash during training resumes from the last local
     checkpoint; an evaluation starts again (it is deterministic).
  4. while a job runs, in-progress acks every ack_wait / 3 keep it ours.
What each kind of job does is in training_job.py / evaluation_job.py (JobHandler, jobs.py).
The worker never creates streams, consumers or buckets: `npm run provision` declares them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError

from .architecture_job import ArchitectureJob
from .config import WorkerConfig
from .contracts import ContractError, load_contracts
from .errors import Interrupted, JobFailure
from .evaluation_job import EvaluationJob
from .heartbeat import Heartbeat, gpu_memory_used_fraction, host_memory_used_fraction
from .jobs import JobHandler
from .metrics import WorkerMetrics
from .training_job import TrainingJob

log = logging.getLogger("trainer_worker")

RESULT_PREFIX = "results"
POLL_SECONDS = 1.0  # how long one pull waits on one consumer before the other one is asked


class Worker:
    """Implements JobContext (jobs.py) for its handlers."""

    def __init__(
        self,
        config: WorkerConfig,
        handlers: Sequence[type[JobHandler]] = (TrainingJob, EvaluationJob, ArchitectureJob),
    ):
        self.config = config
        self.contracts = load_contracts()
        self.handlers = [handler(self) for handler in handlers]
        self.stopping = asyncio.Event()
        self.stop_work = threading.Event()  # read by the training / evaluation threads
        self.nc: Any = None
        self.js: Any = None
        self.store: Any = None
        self._limits: dict[str, tuple[float, int]] = {}  # consumer → (ack_wait s, max_deliver)
        # One job at a time (one GPU): one slot. Heartbeats and metrics report it (ADR 0023).
        self.slots_total = 1
        self.busy = 0
        kinds = [handler.kind for handler in self.handlers]
        self.metrics = WorkerMetrics(kinds, [h.consumer for h in self.handlers], self.slots_total)
        self.heartbeat = Heartbeat(
            worker_id=config.worker_id,
            kinds=kinds,
            slots_total=self.slots_total,
            busy=lambda: self.busy,
            interval_s=config.heartbeat_s,
        )

    def request_stop(self) -> None:
        """SIGTERM: take nothing new; a running job checkpoints (or stops) and gives its job back."""
        self.stopping.set()
        self.stop_work.set()

    async def connect(self) -> bool:
        """Connects and binds to the provisioned consumers and bucket; False if stopped meanwhile."""
        cfg = self.config
        auth: dict[str, Any] = {}
        if cfg.nats_user is not None:
            # Its own user may subscribe only to _INBOX.<user>.> (deploy/nats/auth.conf).
            auth = {
                "user": cfg.nats_user,
                "password": cfg.nats_password,
                "inbox_prefix": f"_INBOX.{cfg.nats_user}",
            }
        connecting = asyncio.ensure_future(
            nats.connect(
                servers=[cfg.nats_url],
                name="genesis-trainer-worker",
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                **auth,
            )
        )
        # The first connection retries forever (the server may start later, or refuse a wrong
        # password): a stop request must still end the process.
        stopping = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not connecting.done():
            connecting.cancel()
            await asyncio.gather(connecting, return_exceptions=True)
            return False
        self.nc = connecting.result()
        self.js = self.nc.jetstream()
        # Provisioning (`npm run provision`, a Job in k8s) declares the consumers and the bucket; a
        # worker that starts first waits for them instead of creating them or crash-looping.
        last_warning = 0.0
        while True:
            missing = None
            try:
                for handler in self.handlers:
                    missing = f"consumer {handler.consumer} on stream {cfg.jobs_stream}"
                    info = await self.js.consumer_info(cfg.jobs_stream, handler.consumer)
                    self._limits[handler.consumer] = (
                        float(info.config.ack_wait or 30.0),
                        int(info.config.max_deliver or -1),
                    )
                missing = f"object store bucket {cfg.artifacts_bucket}"
                self.store = await self.js.object_store(cfg.artifacts_bucket)
                break
            except NotFoundError:  # BucketNotFoundError is one too
                if time.monotonic() - last_warning > 30:
                    log.warning(f"waiting for provisioning: {missing} does not exist (npm run provision)")
                    last_warning = time.monotonic()
                try:
                    await asyncio.wait_for(self.stopping.wait(), 5)
                    return False
                except asyncio.TimeoutError:
                    continue
        log.info(
            "connected",
            extra={
                "nats": cfg.nats_url,
                "consumers": {c: {"ack_wait_s": w, "max_deliver": m} for c, (w, m) in self._limits.items()},
            },
        )
        return True

    async def run(self) -> None:
        if not await self.connect():
            if self.nc is not None:
                await self.nc.close()
            return
        subs = [
            (
                handler,
                await self.js.pull_subscribe_bind(durable=handler.consumer, stream=self.config.jobs_stream),
            )
            for handler in self.handlers
        ]
        stopping = asyncio.ensure_future(self.stopping.wait())
        beats = asyncio.create_task(self.heartbeat.run(self.nc, self.stopping))
        observing = asyncio.create_task(self._observe())
        turn = 0
        try:
            while not self.stopping.is_set():
                # Round robin: after a job (or an empty poll) of one consumer, the next one is asked.
                handler, sub = subs[turn % len(subs)]
                turn += 1
                fetch = asyncio.ensure_future(sub.fetch(1, timeout=POLL_SECONDS))
                await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    # Stopping while idle. A message that lands in the cancelled fetch's inbox
                    # is redelivered after ack_wait.
                    fetch.cancel()
                    await asyncio.gather(fetch, return_exceptions=True)
                    break
                try:
                    msgs = fetch.result()
                except NatsTimeoutError:
                    continue
                except Exception:  # e.g. a reconnect in progress: the client retries on its own
                    log.warning("fetch failed; retrying", exc_info=True)
                    await asyncio.sleep(1)
                    continue
                for msg in msgs:
                    await self.handle(msg, handler)
        finally:
            stopping.cancel()
            for task in (beats, observing):
                task.cancel()
            await asyncio.gather(beats, observing, return_exceptions=True)
            # close, not drain: every ack and publish above was awaited, and draining a pull
            # subscription waits out its drain timeout (30 s) for nothing.
            for _, sub in subs:
                await sub.unsubscribe()
            await self.nc.close()

    # --- one job: the protocol every kind of job shares ---------------------------------------

    async def handle(self, msg: Any, handler: JobHandler) -> None:
        started = time.monotonic()
        self.busy += 1
        self.metrics.slots_busy.set(self.busy)
        outcome = "invalid"
        try:
            outcome = await self._handle(msg, handler)
        finally:
            self.busy -= 1
            self.metrics.slots_busy.set(self.busy)
            self.metrics.job_done(handler.kind, outcome, time.monotonic() - started)

    async def _handle(self, msg: Any, handler: JobHandler) -> str:
        """One job message, start to ack; returns its outcome (metrics.OUTCOMES)."""
        delivery = msg.metadata.num_delivered
        try:
            envelope = json.loads(msg.data)
            self.contracts.validate(envelope)
            if envelope["type"] != handler.subject:
                raise ContractError([f"/type {envelope['type']} is not {handler.subject}"])
        except (ValueError, ContractError) as err:
            # Can never succeed: terminate (the DLQ advisory picks it up) and, when the job id is
            # readable, answer with a non-retryable failure so the cycle does not wait for nothing.
            log.error("invalid job message; terminated", extra={"error": str(err)[:500]})
            await self._fail_unparseable(msg, handler, err)
            await msg.term()
            return "invalid"
        job_id = envelope["data"]["job_id"]
        ctx = {
            "job_id": job_id,
            "job": handler.subject,
            "correlation_id": envelope["correlation_id"],
            "delivery": delivery,
        }
        log.info("job received", extra=ctx)

        if await self._republish_existing_result(job_id):
            log.info("job already has a result; republished it and acked (no second run)", extra=ctx)
            await msg.ack_sync()
            return "republished"

        ack_wait, max_deliver = self._limits.get(handler.consumer, (30.0, -1))
        heartbeat = asyncio.create_task(self._heartbeat(msg, ack_wait))
        try:
            event = await handler.run(envelope, delivery)
        except Interrupted:
            log.warning("job interrupted by shutdown; it goes back to the queue", extra=ctx)
            await msg.nak()
            return "interrupted"
        except JobFailure as failure:
            log.error("job failed", extra=ctx | {"code": failure.code, "error": failure.message})
            event = handler.failed_event(envelope, failure, delivery)
        except Exception as err:  # an unexpected error: retried while deliveries remain
            last = max_deliver > 0 and delivery >= max_deliver
            log.exception("job crashed", extra=ctx | {"last_delivery": last})
            if not last:
                await msg.nak(delay=min(60.0, 5.0 * 2 ** (delivery - 1)))
                return "retried"
            failure = JobFailure(
                "WORKER_ERROR", f"{type(err).__name__}: {err}", retryable=True, phase=handler.crash_phase
            )
            event = handler.failed_event(envelope, failure, delivery)
        finally:
            heartbeat.cancel()
        await self._publish_result(job_id, event)
        await msg.ack_sync()
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        log.info("job done", extra=ctx | {"result": event["type"]})
        if event["type"] == handler.failed_type:
            return "failed_retryable" if event["data"].get("retryable") else "failed"
        return "completed"

    # --- JobContext ----------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        return self.config.work_dir / "jobs" / job_id

    async def bucket(self, name: str) -> Any:
        if name == self.config.artifacts_bucket:
            return self.store
        try:
            return await self.js.object_store(name)
        except BucketNotFoundError:
            raise JobFailure(
                "BUCKET_NOT_FOUND", f"object store bucket {name}", retryable=False, phase="download"
            ) from None

    async def download(self, bucket: str, key: str, *, missing_code: str) -> bytes:
        store = await self.bucket(bucket)
        try:
            result = await store.get(key)
        except ObjectNotFoundError:
            raise JobFailure(
                missing_code, f"{bucket}/{key} is not in the object store", retryable=False, phase="download"
            ) from None
        return bytes(result.data or b"")

    async def publish(self, event: dict[str, Any]) -> Any:
        self.contracts.validate(event)  # our own output obeys the shared contract, or it is a bug
        payload = json.dumps(event, separators=(",", ":")).encode()
        return await self.js.publish(event["type"], payload, headers={"Nats-Msg-Id": event["id"]})

    async def has_result(self, job_id: str) -> bool:
        try:
            await self.store.get(_marker(job_id))
        except ObjectNotFoundError:
            return False
        return True

    # --- helpers -------------------------------------------------------------------------------

    async def _observe(self) -> None:
        """Memory and the consumers' lag for the metrics, every heartbeat interval."""
        while True:
            gpu = gpu_memory_used_fraction()
            self.metrics.memory_used(host_memory_used_fraction(), gpu)
            for handler in self.handlers:
                try:
                    info = await self.js.consumer_info(self.config.jobs_stream, handler.consumer)
                    self.metrics.consumer_lag(
                        handler.consumer, info.num_pending or 0, info.num_ack_pending or 0
                    )
                except Exception:  # a reconnect in progress: the next round asks again
                    log.debug("consumer info failed", exc_info=True)
            await asyncio.sleep(self.config.heartbeat_s)

    async def _heartbeat(self, msg: Any, ack_wait: float) -> None:
        """In-progress acks at a third of ack_wait, so a long job keeps its message."""
        interval = max(0.5, ack_wait / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await msg.in_progress()
            except Exception:  # a reconnect in progress: the next beat tries again
                log.warning("in-progress ack failed", exc_info=True)

    async def _fail_unparseable(self, msg: Any, handler: JobHandler, err: Exception) -> None:
        """A failure event for a schema-invalid job, when its envelope and job id are readable."""
        failure = JobFailure("INVALID_JOB", str(err)[:4000], retryable=False, phase="validate")
        delivery = msg.metadata.num_delivered
        event = None
        try:
            envelope = json.loads(msg.data)
            for bare in (False, True):  # with the job's evaluation_id/role when they are valid
                try:
                    event = self.contracts.validate(
                        handler.failed_event(envelope, failure, delivery, bare=bare)
                    )
                    break
                except ContractError:
                    continue
        except Exception:
            pass
        if event is None:
            return  # nothing to answer to; the message is terminated and dead-lettered
        job_id = event["data"]["job_id"]
        if not await self._republish_existing_result(job_id):
            await self._publish_result(job_id, event)

    async def _publish_result(self, job_id: str, event: dict[str, Any]) -> None:
        try:
            existing = await self.store.get(_marker(job_id))
            event = json.loads(existing.data)  # another delivery won the race: publish its result
        except ObjectNotFoundError:
            await self.store.put(_marker(job_id), json.dumps(event).encode())
        ack = await self.publish(event)
        if getattr(ack, "duplicate", False):
            log.info("result was already published (deduplicated)", extra={"job_id": job_id})

    async def _republish_existing_result(self, job_id: str) -> bool:
        try:
            existing = await self.store.get(_marker(job_id))
        except ObjectNotFoundError:
            return False
        await self.publish(json.loads(existing.data))
        return True


def _marker(job_id: str) -> str:
    return f"{RESULT_PREFIX}/{job_id}.json"


async def serve(config: WorkerConfig, stop_after: float | None = None) -> None:
    """Runs the worker until SIGTERM/SIGINT (a running job checkpoints or stops, and gives its job back)."""
    import signal

    worker = Worker(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    if stop_after is not None:
        loop.call_later(stop_after, worker.request_stop)
    started = time.monotonic()
    await asyncio.to_thread(_probe_sandbox, config)
    worker.metrics.serve(config.metrics_host, config.metrics_port)
    try:
        await worker.run()
    finally:
        worker.metrics.close()
    log.info("stopped", extra={"uptime_s": round(time.monotonic() - started, 1)})


def _probe_sandbox(config: WorkerConfig) -> None:
    """At boot, so the log says at once how tests will be contained (the probe is cached). Not
    fatal: training needs no sandbox, and an evaluation with tests fails SANDBOX_UNAVAILABLE."""
    from .sandbox import SandboxUnavailable, containment

    try:
        containment(config.evaluation.sandbox_mode, config.evaluation.sandbox_python)
    except SandboxUnavailable as err:
        log.warning("sandbox unavailable: evaluations with tests will be refused", extra={"reason": str(err)})
