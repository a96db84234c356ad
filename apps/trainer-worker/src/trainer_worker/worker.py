"""The job loop: jobs.train from the GENESIS_JOBS work queue → an adapter in the object store.

One job at a time per worker (one GPU); more throughput is more worker pods on the same queue.

Exactly one result per job, whatever is redelivered or killed:
  1. before any work, a result marker `results/<job_id>.json` in the object store is looked up; if
     there is one, its stored envelope is published again (same id → a duplicate by Nats-Msg-Id,
     and by event id for consumers outside the dedup window) and the job is acked: no second run;
  2. the result event's id is derived from the job id (uuid v5), so two racing workers publish the
     same id and JetStream keeps one;
  3. order: adapter upload → marker → publish → ack. A crash between any two steps is repaired by
     (1) on redelivery. A crash during training resumes from the last local checkpoint.
The worker never creates streams, consumers or buckets: `npm run provision` declares them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError

from .config import WorkerConfig
from .contracts import ContractError, follow_up, load_contracts, result_event_id
from .errors import Interrupted, JobFailure
from .train import ADAPTER_FILE, CONFIG_FILE, Progress, TrainResult

log = logging.getLogger("trainer_worker")

JOBS_SUBJECT = "jobs.train"
RESULT_PREFIX = "results"


class Worker:
    def __init__(self, config: WorkerConfig):
        self.config = config
        self.contracts = load_contracts()
        self.stopping = asyncio.Event()
        self._stop_training = threading.Event()
        self.nc: Any = None
        self.js: Any = None
        self.store: Any = None
        self.ack_wait = 60.0
        self.max_deliver = 5

    def request_stop(self) -> None:
        """SIGTERM: finish nothing new; a running training saves a checkpoint and gives the job back."""
        self.stopping.set()
        self._stop_training.set()

    async def connect(self) -> bool:
        """Connects and binds to the provisioned consumer and bucket; False if stopped meanwhile."""
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
        # Provisioning (`npm run provision`, a Job in k8s) declares the consumer and the bucket; a
        # worker that starts first waits for them instead of creating them or crash-looping.
        last_warning = 0.0
        while True:
            try:
                info = await self.js.consumer_info(cfg.jobs_stream, cfg.consumer)
                self.store = await self.js.object_store(cfg.artifacts_bucket)
                break
            except NotFoundError as err:  # BucketNotFoundError is one too
                missing = (
                    f"object store bucket {cfg.artifacts_bucket}"
                    if isinstance(err, BucketNotFoundError)
                    else f"consumer {cfg.consumer} on stream {cfg.jobs_stream}"
                )
                if time.monotonic() - last_warning > 30:
                    log.warning(f"waiting for provisioning: {missing} does not exist (npm run provision)")
                    last_warning = time.monotonic()
                try:
                    await asyncio.wait_for(self.stopping.wait(), 5)
                    return False
                except asyncio.TimeoutError:
                    continue
        self.ack_wait = float(info.config.ack_wait or 30.0)
        self.max_deliver = int(info.config.max_deliver or -1)
        log.info(
            "connected",
            extra={"nats": cfg.nats_url, "consumer": cfg.consumer, "ack_wait_s": self.ack_wait},
        )
        return True

    async def run(self) -> None:
        if not await self.connect():
            if self.nc is not None:
                await self.nc.close()
            return
        sub = await self.js.pull_subscribe_bind(durable=self.config.consumer, stream=self.config.jobs_stream)
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                fetch = asyncio.ensure_future(sub.fetch(1, timeout=5))
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
                    await self.handle(msg)
        finally:
            stopping.cancel()
            # close, not drain: every ack and publish above was awaited, and draining a pull
            # subscription waits out its drain timeout (30 s) for nothing.
            await sub.unsubscribe()
            await self.nc.close()

    # --- one job -----------------------------------------------------------------------------

    async def handle(self, msg: Any) -> None:
        delivery = msg.metadata.num_delivered
        try:
            envelope = json.loads(msg.data)
            self.contracts.validate(envelope)
            if envelope["type"] != JOBS_SUBJECT:
                raise ContractError([f"/type {envelope['type']} is not {JOBS_SUBJECT}"])
        except (ValueError, ContractError) as err:
            # Can never succeed: terminate (the DLQ advisory picks it up) and, when the job id is
            # readable, answer with a non-retryable failure so the cycle does not wait for nothing.
            log.error("invalid job message; terminated", extra={"error": str(err)[:500]})
            await self._fail_unparseable(msg, err)
            await msg.term()
            return
        job_id = envelope["data"]["job_id"]
        ctx = {"job_id": job_id, "correlation_id": envelope["correlation_id"], "delivery": delivery}
        log.info("job received", extra=ctx)

        if await self._republish_existing_result(job_id):
            log.info("job already has a result; republished it and acked (no second run)", extra=ctx)
            await msg.ack_sync()
            return

        heartbeat = asyncio.create_task(self._heartbeat(msg))
        try:
            event = await self._run_job(envelope, delivery)
        except Interrupted:
            heartbeat.cancel()
            log.warning("training interrupted by shutdown; the job goes back to the queue", extra=ctx)
            await msg.nak()
            return
        except JobFailure as failure:
            heartbeat.cancel()
            log.error("job failed", extra=ctx | {"code": failure.code, "error": failure.message})
            event = self._failed(envelope, failure, delivery)
        except Exception as err:  # an unexpected error: retried while deliveries remain
            heartbeat.cancel()
            last = self.max_deliver > 0 and delivery >= self.max_deliver
            log.exception("job crashed", extra=ctx | {"last_delivery": last})
            if not last:
                await msg.nak(delay=min(60.0, 5.0 * 2 ** (delivery - 1)))
                return
            failure = JobFailure(
                "WORKER_ERROR", f"{type(err).__name__}: {err}", retryable=True, phase="train"
            )
            event = self._failed(envelope, failure, delivery)
        heartbeat.cancel()
        await self._publish_result(job_id, event)
        await msg.ack_sync()
        shutil.rmtree(self._job_dir(job_id), ignore_errors=True)
        log.info("job done", extra=ctx | {"result": event["type"]})

    async def _run_job(self, envelope: dict[str, Any], delivery: int) -> dict[str, Any]:
        data = envelope["data"]
        job_id = data["job_id"]
        train_cfg = self.config.train.with_overrides(data.get("hyperparameters"))
        if data.get("base_model"):
            train_cfg = _replace(train_cfg, base_model=data["base_model"])
        if "seed" in data:
            train_cfg = _replace(train_cfg, seed=data["seed"])
        deadline = data.get("deadline")
        if deadline and datetime.fromisoformat(deadline.replace("Z", "+00:00")) <= datetime.now(timezone.utc):
            raise JobFailure(
                "DEADLINE_EXCEEDED",
                f"the job's deadline {deadline} has passed",
                retryable=False,
                phase="validate",
            )
        base = train_cfg.base_model
        if base.startswith(("/", "./", "../", "~")) and not Path(base).expanduser().exists():
            raise JobFailure(
                "BASE_MODEL_NOT_FOUND", f"no such folder: {base}", retryable=False, phase="prepare"
            )
        dataset = data["dataset"]
        raw = await self._download(dataset["bucket"], dataset["key"])

        from .data import parse_snapshot

        records = parse_snapshot(raw, dataset["sha256"])
        progress_queue: asyncio.Queue[Progress] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        publisher = asyncio.create_task(self._publish_progress(envelope, progress_queue, delivery))
        job_dir = self._job_dir(job_id)
        out_dir = job_dir / "adapter"
        run_key = json.dumps(
            [job_id, dataset["sha256"], train_cfg.base_model, train_cfg.hyperparameters(), train_cfg.seed]
        )
        self._stop_training.clear()

        def on_progress(p: Progress) -> None:
            loop.call_soon_threadsafe(progress_queue.put_nowait, p)

        from .train import train_adapter

        try:
            result: TrainResult = await asyncio.to_thread(
                train_adapter,
                records,
                train_cfg,
                out_dir,
                checkpoint_path=job_dir / "checkpoint.pt",
                run_key=run_key,
                on_progress=on_progress,
                should_stop=self._stop_training.is_set,
            )
        except (JobFailure, Interrupted):
            raise
        except OSError as err:
            if train_cfg.base_model != "tiny" and not Path(train_cfg.base_model).exists():
                raise JobFailure(
                    "BASE_MODEL_UNAVAILABLE",
                    f"{train_cfg.base_model}: {err}",
                    retryable=True,
                    phase="prepare",
                ) from err
            raise
        finally:
            await asyncio.sleep(0)  # let the last progress callback land in the queue
            await progress_queue.join()
            publisher.cancel()

        bucket = (data.get("output") or {}).get("bucket") or self.config.artifacts_bucket
        prefix = (data.get("output") or {}).get("prefix") or f"adapters/{job_id}"
        # The adapter's hash is part of its key: a racing duplicate run can never overwrite the
        # bytes that a published event points to.
        prefix = f"{prefix}/{result.sha256[:16]}"
        store = await self._bucket(bucket)
        adapter_key, config_key = f"{prefix}/{ADAPTER_FILE}", f"{prefix}/{CONFIG_FILE}"
        await store.put(adapter_key, (out_dir / ADAPTER_FILE).read_bytes())
        await store.put(config_key, (out_dir / CONFIG_FILE).read_bytes())
        completed = {
            "job_id": job_id,
            "base_model": train_cfg.base_model,
            "artifact": {
                "bucket": bucket,
                "key": adapter_key,
                "config_key": config_key,
                "sha256": result.sha256,
                "size_bytes": result.size_bytes,
                "format": "peft-lora-safetensors",
            },
            "metrics": result.metrics,
            "hyperparameters": result.hyperparameters,
            "seed": train_cfg.seed,
            "dataset_sha256": dataset["sha256"],
            "device": result.device,
            "package_versions": result.package_versions,
        }
        return follow_up(
            envelope,
            "training.completed",
            completed,
            source=self.config.source,
            event_id=result_event_id(job_id),
        )

    # --- helpers -------------------------------------------------------------------------------

    def _job_dir(self, job_id: str) -> Path:
        return self.config.work_dir / "jobs" / job_id

    async def _bucket(self, name: str) -> Any:
        if name == self.config.artifacts_bucket:
            return self.store
        try:
            return await self.js.object_store(name)
        except BucketNotFoundError:
            raise JobFailure(
                "BUCKET_NOT_FOUND", f"object store bucket {name}", retryable=False, phase="download"
            ) from None

    async def _download(self, bucket: str, key: str) -> bytes:
        store = await self._bucket(bucket)
        try:
            result = await store.get(key)
        except ObjectNotFoundError:
            raise JobFailure(
                "SNAPSHOT_NOT_FOUND",
                f"{bucket}/{key} is not in the object store",
                retryable=False,
                phase="download",
            ) from None
        return bytes(result.data or b"")

    async def _heartbeat(self, msg: Any) -> None:
        """In-progress acks at a third of ack_wait, so a long training keeps its job."""
        interval = max(0.5, self.ack_wait / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await msg.in_progress()
            except Exception:  # a reconnect in progress: the next beat tries again
                log.warning("in-progress ack failed", exc_info=True)

    async def _publish_progress(
        self, cause: dict[str, Any], queue: asyncio.Queue[Progress], delivery: int
    ) -> None:
        while True:
            p = await queue.get()
            try:
                data = {
                    "job_id": cause["data"]["job_id"],
                    "step": p.step,
                    "total_steps": p.total_steps,
                    "loss": p.loss,
                    "tokens_per_second": round(p.tokens_per_second, 1),
                    "eta_seconds": round(p.eta_seconds, 2),
                    "elapsed_seconds": round(p.elapsed_seconds, 2),
                    "delivery": delivery,
                }
                if p.resumed_from_step:
                    data["resumed_from_step"] = p.resumed_from_step
                event = follow_up(cause, "training.progress", data, source=self.config.source)
                await self._publish(event)
                log.info("progress", extra={"job_id": data["job_id"], "step": p.step, "loss": p.loss})
            except Exception:  # progress is best effort; the result is what counts
                log.warning("could not publish training.progress", exc_info=True)
            finally:
                queue.task_done()

    def _failed(self, envelope: dict[str, Any], failure: JobFailure, delivery: int) -> dict[str, Any]:
        data = {
            "job_id": envelope["data"]["job_id"],
            "reason": {"code": failure.code, "message": failure.message[:4000] or failure.code},
            "retryable": failure.retryable,
            "phase": failure.phase,
            "delivery": delivery,
        }
        job_id = envelope["data"]["job_id"]
        return follow_up(
            envelope, "training.failed", data, source=self.config.source, event_id=result_event_id(job_id)
        )

    async def _fail_unparseable(self, msg: Any, err: Exception) -> None:
        """A training.failed for a schema-invalid job, when its envelope and job id are readable."""
        try:
            envelope = json.loads(msg.data)
            job_id = envelope["data"]["job_id"]
            self.contracts.validate(
                follow_up(envelope, "training.failed", _probe_failed(job_id), source=self.config.source)
            )
        except Exception:
            return  # nothing to answer to; the message is terminated and dead-lettered
        failure = JobFailure("INVALID_JOB", str(err)[:4000], retryable=False, phase="validate")
        event = self._failed(envelope, failure, msg.metadata.num_delivered)
        if not await self._republish_existing_result(job_id):
            await self._publish_result(job_id, event)

    async def _publish(self, event: dict[str, Any]) -> Any:
        self.contracts.validate(event)  # our own output obeys the shared contract, or it is a bug
        payload = json.dumps(event, separators=(",", ":")).encode()
        return await self.js.publish(event["type"], payload, headers={"Nats-Msg-Id": event["id"]})

    async def _publish_result(self, job_id: str, event: dict[str, Any]) -> None:
        marker = f"{RESULT_PREFIX}/{job_id}.json"
        try:
            existing = await self.store.get(marker)
            event = json.loads(existing.data)  # another delivery won the race: publish its result
        except ObjectNotFoundError:
            await self.store.put(marker, json.dumps(event).encode())
        ack = await self._publish(event)
        if getattr(ack, "duplicate", False):
            log.info("result was already published (deduplicated)", extra={"job_id": job_id})

    async def _republish_existing_result(self, job_id: str) -> bool:
        try:
            existing = await self.store.get(f"{RESULT_PREFIX}/{job_id}.json")
        except ObjectNotFoundError:
            return False
        await self._publish(json.loads(existing.data))
        return True


def _probe_failed(job_id: str) -> dict[str, Any]:
    return {"job_id": job_id, "reason": {"code": "INVALID_JOB", "message": "probe"}, "retryable": False}


def _replace(cfg: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(cfg, **changes)


async def serve(config: WorkerConfig, stop_after: float | None = None) -> None:
    """Runs the worker until SIGTERM/SIGINT (a running training checkpoints and gives its job back)."""
    import signal

    worker = Worker(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    if stop_after is not None:
        loop.call_later(stop_after, worker.request_stop)
    started = time.monotonic()
    await worker.run()
    log.info("stopped", extra={"uptime_s": round(time.monotonic() - started, 1)})
