"""jobs.architecture → ONE trial of the cycle's Optuna study on this worker → study.trial.finished
(docs/adr/0025-architecture-search.md).

The trainer-bridge fans a study out into trial jobs, at most `parallelism` in flight, and owns the
budget; this worker joins the study in the shared storage, asks the sampler for one trial (it sees
every trial finished so far, whoever ran it), trains it with pruning, tells the result and answers
with the trial: its state, value, parameters, run time and, when it was the best finished trial at
that moment, the adapter stored at once (studies/<name>/trial-<n>/<sha>/…), so the best adapter
outlives the worker that trained it. The answer also carries the study's summary as the storage
holds it now (every trial, counts, best, importance), which the bridge keeps on the study row.

A trial that cannot run answers training.failed, as jobs.train does: the one job lifecycle retries
it or fails the cycle.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
    Stopping,
    StudyBudget,
    TrialRun,
    enqueue_starts,
    open_study,
    run_one_trial,
    storage,
    summarise,
    trial_summary,
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

    def _storage(self) -> Any:
        """One RDB storage (one connection pool) for every trial job this worker runs, created by
        the first: a storage per trial would leave a pool behind per trial."""
        if getattr(self, "_study_storage", None) is None:
            self._study_storage = storage(self.storage_url())
        return self._study_storage

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
        for key in ("ranks", "alpha_ratios", "target_sets", "dropout"):
            if key in space_args:
                space_args[key] = tuple(space_args[key])
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

        run = TrialRun(
            train_records=split.train,
            validation_records=split.validation,
            base=base,
            space=space,
            work_dir=job_dir / "trials",
            keep_adapter=keep_adapter,
            should_stop=self.ctx.stop_work.is_set,
        )
        # The first trials are the model's current configuration (the adopted one the bridge sends,
        # else this worker's defaults), so the study always shows what it is trying to beat, then
        # the warm start; enqueued once (skip_if_exists), whichever trial job opens the study first.
        defaults = {k: v for k, v in base.hyperparameters().items() if k in _SEARCHED}
        starts = [job.get("baseline") or defaults, *(job.get("warm_start") or [])]
        worker_id = config.worker_id

        def one_trial() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            study = open_study(self._storage(), name, seed=base.seed, space=space)
            enqueue_starts(study, starts, space)
            frozen = run_one_trial(study, run, job_id=job_id, worker_id=worker_id)
            return trial_summary(frozen), dict(frozen.user_attrs), summarise(study, budget)

        try:
            trial, attrs, summary = await asyncio.to_thread(one_trial)
        except Stopping:
            raise Interrupted(f"stopped during a trial of study {name}") from None
        except (JobFailure, Interrupted):
            raise
        except OSError as err:
            failure = base_model_unavailable(base.base_model, err, phase="prepare")
            if failure is None:
                raise
            raise failure from err
        log.info(
            "trial finished",
            extra={"job_id": job_id, "study": name} | {k: trial[k] for k in ("number", "state", "value")},
        )
        best = summary["best"]
        finished: dict[str, Any] = {
            "job_id": job_id,
            "study": name,
            "worker_id": worker_id,
            "trial": {k: trial[k] for k in _TRIAL_FIELDS},
            "base_model": base.base_model,
            "seed": base.seed,
            "dataset_sha256": dataset["sha256"],
            "package_versions": package_versions() | {"optuna": _optuna_version()},
            "best": {"number": best["number"], "value": best["value"]} if best else None,
            "budget": _with_left(summary["budget"]),
            "summary": _compact(summary)
            | {
                "validation": {
                    "train_records": len(split.train),
                    "validation_records": len(split.validation),
                    "suite_excluded": split.suite_excluded,
                    "fraction": fraction,
                }
            },
        }
        if attrs.get("artifact") and attrs.get("trained"):
            finished["artifact"] = attrs["artifact"]
            finished["trained"] = attrs["trained"]
        return follow_up(
            envelope,
            subjects.STUDY_TRIAL_FINISHED,
            finished,
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


_TRIAL_FIELDS = (
    "number",
    "state",
    "value",
    "params",
    "hyperparameters",
    "intermediate",
    "pruned_at_step",
    "duration_seconds",
    "worker_id",
)


def _with_left(budget: dict[str, Any]) -> dict[str, Any]:
    return budget | {
        "left_trials": max(0, budget["trials"] - budget["spent_trials"]),
        "left_worker_seconds": round(max(0.0, budget["worker_seconds"] - budget["spent_worker_seconds"]), 3),
    }


def _compact(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without what the bridge keeps elsewhere (the best's adapter and training report
    travel with the trial that produced them)."""
    best = summary.get("best")
    trimmed = {k: v for k, v in best.items() if k not in ("artifact", "trained")} if best else None
    return summary | {"best": trimmed}


def _optuna_version() -> str:
    import optuna

    return str(optuna.__version__)
