"""jobs.train → a LoRA adapter in the object store, training.progress on the way, training.completed.

Adapter upload happens before the worker writes the result marker; the adapter's hash is part of
its key, so a racing duplicate run never overwrites the bytes a published event points to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

from . import subjects
from .contracts import follow_up, result_event_id
from .data import parse_snapshot
from .errors import Interrupted, JobFailure
from .jobs import JobHandler, base_model_unavailable, check_deadline, check_local_base_model
from .train import ADAPTER_FILE, CONFIG_FILE, Progress, TrainResult, train_adapter

log = logging.getLogger("trainer_worker")


class TrainingJob(JobHandler):
    kind = "training"
    subject = subjects.JOBS_TRAIN
    failed_type = subjects.TRAINING_FAILED
    crash_phase = "train"

    @property
    def consumer(self) -> str:
        return self.ctx.config.train_consumer

    async def run(self, envelope: dict[str, Any], delivery: int) -> dict[str, Any]:
        config = self.ctx.config
        data = envelope["data"]
        job_id = data["job_id"]
        train_cfg = config.train.with_overrides(data.get("hyperparameters"))
        if data.get("base_model"):
            train_cfg = dataclasses.replace(train_cfg, base_model=data["base_model"])
        if "seed" in data:
            train_cfg = dataclasses.replace(train_cfg, seed=data["seed"])
        check_deadline(data)
        check_local_base_model(train_cfg.base_model, phase="prepare")
        dataset = data["dataset"]
        raw = await self.ctx.download(dataset["bucket"], dataset["key"], missing_code="SNAPSHOT_NOT_FOUND")

        records = parse_snapshot(raw, dataset["sha256"])
        progress_queue: asyncio.Queue[Progress] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        publisher = asyncio.create_task(self._publish_progress(envelope, progress_queue, delivery))
        job_dir = self.ctx.job_dir(job_id)
        out_dir = job_dir / "adapter"
        run_key = json.dumps(
            [job_id, dataset["sha256"], train_cfg.base_model, train_cfg.hyperparameters(), train_cfg.seed]
        )

        def on_progress(p: Progress) -> None:
            loop.call_soon_threadsafe(progress_queue.put_nowait, p)

        try:
            result: TrainResult = await asyncio.to_thread(
                train_adapter,
                records,
                train_cfg,
                out_dir,
                checkpoint_path=job_dir / "checkpoint.pt",
                run_key=run_key,
                on_progress=on_progress,
                should_stop=self.ctx.stop_work.is_set,
            )
        except (JobFailure, Interrupted):
            raise
        except OSError as err:
            failure = base_model_unavailable(train_cfg.base_model, err, phase="prepare")
            if failure is None:
                raise
            raise failure from err
        finally:
            await asyncio.sleep(0)  # let the last progress callback land in the queue
            await progress_queue.join()
            publisher.cancel()

        bucket = (data.get("output") or {}).get("bucket") or config.artifacts_bucket
        prefix = (data.get("output") or {}).get("prefix") or f"adapters/{job_id}"
        # The adapter's hash is part of its key: a racing duplicate run can never overwrite the
        # bytes that a published event points to.
        prefix = f"{prefix}/{result.sha256[:16]}"
        store = await self.ctx.bucket(bucket)
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
            subjects.TRAINING_COMPLETED,
            completed,
            source=config.source,
            event_id=result_event_id(job_id),
        )

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
                event = follow_up(cause, subjects.TRAINING_PROGRESS, data, source=self.ctx.config.source)
                await self.ctx.publish(event)
                log.info("progress", extra={"job_id": data["job_id"], "step": p.step, "loss": p.loss})
            except Exception:  # progress is best effort; the result is what counts
                log.warning("could not publish training.progress", exc_info=True)
            finally:
                queue.task_done()
