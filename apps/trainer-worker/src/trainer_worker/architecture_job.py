"""jobs.architecture → trials of the cycle's Optuna study on this worker → training.completed with
the study's best adapter (docs/adr/0025-architecture-search.md).

The answer is training.completed / training.failed, as for jobs.train: the adapter is a candidate
like any other, so the bridge registers it and the same evaluation and promotion gate judge it; the
`study` field carries the lineage (study name, best trial) and the study's summary.

Several runners may work on one study (several workers, or a job retried after a crash): the study
lives in the shared storage, trials are budgeted there, and each trial that is the best finished
one when it completes has its adapter stored at once (studies/<name>/trial-<n>/<sha>/…), so the
best adapter survives the worker that trained it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from . import subjects
from .contracts import follow_up, result_event_id
from .data import parse_jsonl, parse_snapshot
from .errors import Interrupted, JobFailure
from .jobs import JobHandler, base_model_unavailable, check_deadline, check_local_base_model
from .study import (
    SearchSpace,
    StudyBudget,
    TrialRun,
    enqueue_starts,
    open_study,
    run_trials,
    storage,
    summarise,
    validation_split,
)
from .train import ADAPTER_FILE, CONFIG_FILE, package_versions, sha256_file

log = logging.getLogger("trainer_worker")
_SEARCHED = ("lora_r", "lora_alpha", "lora_dropout", "target_modules", "learning_rate", "max_steps")


class ArchitectureJob(JobHandler):
    kind = "architecture"
    subject = subjects.JOBS_ARCHITECTURE
    failed_type = subjects.TRAINING_FAILED
    crash_phase = "train"

    @property
    def consumer(self) -> str:
        return self.ctx.config.architecture_consumer

    def storage_url(self) -> str:
        """The shared study storage, or this worker's own SQLite file when none is configured."""
        configured = self.ctx.config.study_storage
        if configured:
            return configured
        path = self.ctx.config.work_dir / "studies.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path)

    async def run(self, envelope: dict[str, Any], delivery: int) -> dict[str, Any]:
        config = self.ctx.config
        job = envelope["data"]
        job_id = job["job_id"]
        check_deadline(job)
        base = config.train.with_overrides(job.get("hyperparameters"))
        base = dataclasses.replace(
            base,
            base_model=job.get("base_model") or base.base_model,
            seed=job.get("seed", base.seed),
            checkpoint_every=0,  # a trial is short and restartable; the study is the checkpoint
        )
        check_local_base_model(base.base_model, phase="prepare")
        space_args = dict(job.get("search_space") or {})
        if "learning_rate" in space_args:
            space_args["learning_rate"] = tuple(space_args["learning_rate"])
        if "ranks" in space_args:
            space_args["ranks"] = tuple(space_args["ranks"])
        space = SearchSpace(**space_args)
        budget = StudyBudget(trials=job["budget"]["trials"], worker_seconds=job["budget"]["worker_seconds"])

        dataset = job["dataset"]
        raw = await self.ctx.download(dataset["bucket"], dataset["key"], missing_code="SNAPSHOT_NOT_FOUND")
        records = parse_snapshot(raw, dataset["sha256"])
        suite_items: list[dict[str, Any]] = []
        if job.get("suite"):
            suite = job["suite"]
            suite_raw = await self.ctx.download(suite["bucket"], suite["key"], missing_code="SUITE_NOT_FOUND")
            suite_items = parse_jsonl(
                suite_raw,
                "dataset-record.v1.schema.json",  # the cycle's held-out eval set (ADR 0016)
                expected_sha256=suite["sha256"],
                invalid_code="INVALID_SUITE",
                hash_code="SUITE_HASH_MISMATCH",
            )
        fraction = job["study"].get("validation_fraction", 0.2)
        level = job.get("decontamination_level", "identifiers")
        split = validation_split(records, suite_items, fraction=fraction, level=level)

        name = job["study"]["name"]
        bucket_name = (job.get("output") or {}).get("bucket") or config.artifacts_bucket
        prefix = (job.get("output") or {}).get("prefix") or f"studies/{name}"
        loop = asyncio.get_running_loop()
        job_dir = self.ctx.job_dir(job_id)

        def keep_adapter(number: int, adapter_dir: Path) -> dict[str, Any]:
            # Called from the study's thread: the upload runs on the event loop.
            return asyncio.run_coroutine_threadsafe(
                self._store_adapter(bucket_name, f"{prefix}/trial-{number}", adapter_dir), loop
            ).result()

        def on_trial(summary: dict[str, Any]) -> None:
            log.info(
                "trial finished",
                extra={"job_id": job_id, "study": name}
                | {k: summary[k] for k in ("number", "state", "value")},
            )

        run = TrialRun(
            train_records=split.train,
            validation_records=split.validation,
            base=base,
            space=space,
            work_dir=job_dir / "trials",
            keep_adapter=keep_adapter,
            should_stop=self.ctx.stop_work.is_set,
            on_trial=on_trial,
        )
        # The first trial is the model's current configuration: the adopted one the bridge sends,
        # else this worker's defaults. So the study always shows what it is trying to beat.
        defaults = {k: v for k, v in base.hyperparameters().items() if k in _SEARCHED}
        starts = [job.get("baseline") or defaults, *(job.get("warm_start") or [])]

        def search() -> dict[str, Any]:
            study = open_study(storage(self.storage_url()), name, seed=base.seed, space=space)
            enqueue_starts(study, starts, space)
            ran = run_trials(study, run, budget)
            log.info("study runner done", extra={"job_id": job_id, "study": name, "trials_run_here": ran})
            return summarise(study, budget)

        try:
            summary = await asyncio.to_thread(search)
        except (JobFailure, Interrupted):
            raise
        except OSError as err:
            failure = base_model_unavailable(base.base_model, err, phase="prepare")
            if failure is None:
                raise
            raise failure from err
        if self.ctx.stop_work.is_set():
            raise Interrupted(f"stopped during study {name}")
        best = summary["best"]
        if best is None or not best.get("artifact"):
            raise JobFailure(
                "NO_COMPLETE_TRIAL",
                f"study {name} has no complete trial with an adapter "
                f"({json.dumps(summary['counts'])}); the budget may be too small",
                retryable=False,
                phase="train",
            )
        trained = best["trained"]
        completed = {
            "job_id": job_id,
            "base_model": base.base_model,
            "artifact": best["artifact"],
            "metrics": trained["metrics"],
            "hyperparameters": trained["hyperparameters"],
            "seed": base.seed,
            "dataset_sha256": dataset["sha256"],
            "device": trained["device"],
            "package_versions": package_versions() | {"optuna": _optuna_version()},
            "study": {
                "name": name,
                "best_trial": best["number"],
                "best_value": best["value"],
                "summary": summary
                | {
                    "validation": {
                        "train_records": len(split.train),
                        "validation_records": len(split.validation),
                        "suite_excluded": split.suite_excluded,
                        "fraction": fraction,
                    }
                },
            },
        }
        return follow_up(
            envelope,
            subjects.TRAINING_COMPLETED,
            completed,
            source=config.source,
            event_id=result_event_id(job_id),
        )

    async def _store_adapter(self, bucket_name: str, prefix: str, adapter_dir: Path) -> dict[str, Any]:
        """Adapter files → the object store, under their hash (a racing duplicate never overwrites)."""
        adapter = adapter_dir / ADAPTER_FILE
        digest = sha256_file(adapter)
        store = await self.ctx.bucket(bucket_name)
        key, config_key = f"{prefix}/{digest[:16]}/{ADAPTER_FILE}", f"{prefix}/{digest[:16]}/{CONFIG_FILE}"
        await store.put(key, adapter.read_bytes())
        await store.put(config_key, (adapter_dir / CONFIG_FILE).read_bytes())
        return {
            "bucket": bucket_name,
            "key": key,
            "config_key": config_key,
            "sha256": digest,
            "size_bytes": adapter.stat().st_size,
            "format": "peft-lora-safetensors",
        }


def _optuna_version() -> str:
    import optuna

    return str(optuna.__version__)
