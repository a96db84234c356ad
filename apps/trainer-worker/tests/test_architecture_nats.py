"""jobs.architecture against a real nats-server: a study runs on the worker and its best adapter
comes back as training.completed with the study's lineage (docs/adr/0025-architecture-search.md)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import nats
import pytest

from bus import get_object, make_job, publish, put_object, run_until, wait_for, worker_config
from samples import learnable_records, sha256, snapshot_bytes
from trainer_worker.contracts import load_contracts
from trainer_worker.worker import Worker

pytestmark = pytest.mark.nats

BAD_BASELINE = {"lora_r": 16, "lora_alpha": 32, "learning_rate": 1e-6, "max_steps": 30}
GOOD_WARM_START = {"lora_r": 16, "lora_alpha": 32, "learning_rate": 2e-2, "max_steps": 30}


def architecture_job(dataset: dict[str, Any], suite: dict[str, Any], **data: Any) -> dict[str, Any]:
    return make_job(
        "jobs.architecture",
        {
            "base_model": "tiny",
            "dataset": dataset,
            "suite": suite,
            "study": {"name": f"test-{uuid.uuid4().hex[:8]}", "validation_fraction": 0.25},
            "budget": {"trials": 3, "worker_seconds": 600},
            "search_space": {"min_steps": 20, "max_steps": 30, "eval_every": 10},
            "baseline": BAD_BASELINE,
            "warm_start": [GOOD_WARM_START],
            "hyperparameters": {"batch_size": 8},
            "seed": 5,
            **data,
        },
    )


def test_a_study_job_answers_with_the_best_trials_adapter_and_the_study(
    nats_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        # the snapshot (wrongly) holds an item of the frozen suite: the study must not validate on it
        leaked = {
            "learning_id": "leaked",
            "language": "python",
            "instruction": "Fix the bug.",
            "context": "def scale(x):\n    return x * 3",
            "correction": "def scale(x):\n    return x * 4",
        }
        records = [*learnable_records(), leaked]
        suite_raw = snapshot_bytes([leaked])
        raw = snapshot_bytes(records)
        dataset = await put_object(js, f"snapshots/test/{sha256(raw)}.jsonl", raw)
        suite = await put_object(js, f"eval-sets/test/{sha256(suite_raw)}.jsonl", suite_raw)
        suite.pop("records", None)
        job = architecture_job(dataset, suite)
        job_id = job["data"]["job_id"]
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        completed = await run_until(worker, wait_for(js, "training.completed", job_id, 300))

        load_contracts().validate(completed)
        data = completed["data"]
        study = data["study"]
        summary = study["summary"]
        assert study["name"] == job["data"]["study"]["name"]
        assert summary["validation"]["suite_excluded"] == 1
        assert summary["budget"]["spent_trials"] == 3
        first = next(t for t in summary["trials"] if t["number"] == 0)
        assert first["params"]["learning_rate"] == 1e-6  # the baseline ran first, as it is
        assert study["best_trial"] != 0 and study["best_value"] < first["intermediate"]["10"]
        # the candidate is the best trial's adapter, trained with the best configuration
        assert data["hyperparameters"]["learning_rate"] == summary["best"]["params"]["learning_rate"]
        adapter = await get_object(js, data["artifact"]["bucket"], data["artifact"]["key"])
        assert hashlib.sha256(adapter).hexdigest() == data["artifact"]["sha256"]
        assert data["artifact"]["key"].startswith(f"studies/{study['name']}/trial-{study['best_trial']}/")
        adapter_config = json.loads(
            await get_object(js, data["artifact"]["bucket"], data["artifact"]["config_key"])
        )
        assert adapter_config["r"] == data["hyperparameters"]["lora_r"]
        assert "optuna" in data["package_versions"]
        await nc.close()

    asyncio.run(scenario())


def test_a_study_job_with_a_bad_budget_fails_once_without_retry(nats_url: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        raw = snapshot_bytes(learnable_records())
        dataset = await put_object(js, f"snapshots/test/{sha256(raw)}.jsonl", raw)
        job = architecture_job(dataset, dataset, search_space={"min_steps": 50, "max_steps": 20})
        job["data"].pop("suite")
        await publish(js, job)
        worker = Worker(worker_config(nats_url, tmp_path))
        failed = await run_until(worker, wait_for(js, "training.failed", job["data"]["job_id"], 60))
        assert failed["data"]["reason"]["code"] == "INVALID_SEARCH_SPACE"
        assert failed["data"]["retryable"] is False
        await nc.close()

    asyncio.run(scenario())
